//! kubectl's flags that say how to reach the cluster and where the
//! controller is, and the reference's klog flags (accepted and ignored).

use std::path::PathBuf;

/// Where the controller is and how to reach the cluster: kubectl's flags.
/// Global, so they also work after `admin ...` subcommands.
#[derive(Debug, Clone, clap::Args)]
#[command(mut_args = crate::pflag::booleans)]
pub(crate) struct ClusterArgs {
    /// Name of sealed-secrets controller.
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_CONTROLLER_NAME",
        default_value = "sealed-secrets-controller"
    )]
    pub(crate) controller_name: String,
    /// Namespace of sealed-secrets controller.
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_CONTROLLER_NAMESPACE",
        default_value = "kube-system"
    )]
    pub(crate) controller_namespace: String,
    /// Path to a kube config. Only required if out-of-cluster
    #[arg(global = true, long, env = "SEALED_SECRETS_KUBECONFIG")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// If present, the namespace scope for this CLI request
    #[arg(global = true, short = 'n', long, env = "SEALED_SECRETS_NAMESPACE")]
    pub(crate) namespace: Option<String>,
    /// The name of the kubeconfig context to use
    #[arg(global = true, long, env = "SEALED_SECRETS_CONTEXT")]
    pub(crate) context: Option<String>,
    /// The name of the kubeconfig cluster to use
    #[arg(global = true, long, env = "SEALED_SECRETS_CLUSTER")]
    pub(crate) cluster: Option<String>,
    /// The name of the kubeconfig user to use
    #[arg(global = true, long, env = "SEALED_SECRETS_USER")]
    pub(crate) user: Option<String>,
    /// The address and port of the Kubernetes API server
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_SERVER",
        visible_short_alias = 's'
    )]
    pub(crate) server: Option<String>,
    /// Bearer token for authentication to the API server
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_TOKEN",
        hide_env_values = true
    )]
    pub(crate) token: Option<String>,
    /// Username to impersonate for the operation
    #[arg(global = true, long = "as", env = "SEALED_SECRETS_AS")]
    pub(crate) as_user: Option<String>,
    /// Group to impersonate for the operation, this flag can be repeated to specify multiple groups.
    #[arg(global = true, long = "as-group", env = "SEALED_SECRETS_AS_GROUP")]
    pub(crate) as_group: Vec<String>,
    /// UID to impersonate for the operation
    #[arg(global = true, long = "as-uid", env = "SEALED_SECRETS_AS_UID")]
    pub(crate) as_uid: Option<String>,
    /// Path to a cert file for the certificate authority
    #[arg(global = true, long, env = "SEALED_SECRETS_CERTIFICATE_AUTHORITY")]
    pub(crate) certificate_authority: Option<PathBuf>,
    /// Path to a client certificate file for TLS
    #[arg(global = true, long, env = "SEALED_SECRETS_CLIENT_CERTIFICATE")]
    pub(crate) client_certificate: Option<PathBuf>,
    /// Path to a client key file for TLS
    #[arg(global = true, long, env = "SEALED_SECRETS_CLIENT_KEY")]
    pub(crate) client_key: Option<PathBuf>,
    /// If true, the server's certificate will not be checked for validity. This will make your HTTPS connections insecure
    #[arg(global = true, long, env = "SEALED_SECRETS_INSECURE_SKIP_TLS_VERIFY")]
    pub(crate) insecure_skip_tls_verify: bool,
    /// If provided, this name will be used to validate server certificate.
    #[arg(global = true, long, env = "SEALED_SECRETS_TLS_SERVER_NAME")]
    pub(crate) tls_server_name: Option<String>,
    /// The length of time to wait before giving up on a single server request (e.g. 1s, 2m). 0 means no timeout
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_REQUEST_TIMEOUT",
        default_value = "0"
    )]
    pub(crate) request_timeout: String,
    /// Username for basic authentication to the API server
    #[arg(global = true, long, env = "SEALED_SECRETS_USERNAME")]
    pub(crate) username: Option<String>,
    /// Password for basic authentication to the API server
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_PASSWORD",
        hide_env_values = true
    )]
    pub(crate) password: Option<String>,
    /// If provided, this URL will be used to connect via proxy (http:// or https://)
    #[arg(global = true, long, env = "SEALED_SECRETS_PROXY_URL")]
    pub(crate) proxy_url: Option<String>,
    /// If true, opt-out of response compression for all requests to the server (kubeseal never asks for compressed responses)
    #[arg(global = true, long, env = "SEALED_SECRETS_DISABLE_COMPRESSION")]
    pub(crate) disable_compression: bool,
    #[command(flatten)]
    pub(crate) klog: KlogArgs,
}

/// The klog flags the reference kubeseal registers (Go flag names, with
/// underscores). They only tune client-go's logging there; here they are
/// accepted, checked for their type, and ignored. As in the reference, they
/// are not read from SEALED_SECRETS_* variables.
#[derive(Debug, Clone, clap::Args)]
#[command(mut_args = crate::pflag::booleans)]
#[command(next_help_heading = "klog flags of the reference kubeseal (accepted and ignored)")]
pub(crate) struct KlogArgs {
    /// Log verbosity
    #[arg(
        global = true,
        short = 'v',
        long = "v",
        default_value = "0",
        allow_negative_numbers = true,
        value_name = "LEVEL"
    )]
    pub(crate) v: i32,
    /// comma-separated list of pattern=N settings for file-filtered logging
    #[arg(global = true, long = "vmodule", value_name = "SPEC")]
    pub(crate) vmodule: Option<String>,
    /// If true, adds the file directory to the header of the log messages
    #[arg(global = true, long = "add_dir_header")]
    pub(crate) add_dir_header: bool,
    /// log to standard error as well as files
    #[arg(global = true, long = "alsologtostderr")]
    pub(crate) alsologtostderr: bool,
    /// logs at or above this threshold go to stderr when -alsologtostderr=true
    #[arg(
        global = true,
        long = "alsologtostderrthreshold",
        value_name = "SEVERITY"
    )]
    pub(crate) alsologtostderrthreshold: Option<String>,
    /// If true, stderrthreshold is ignored when logtostderr=true (legacy behavior)
    #[arg(
        global = true,
        long = "legacy_stderr_threshold_behavior",
        default_value = "true"
    )]
    pub(crate) legacy_stderr_threshold_behavior: bool,
    /// when logging hits line file:N, emit a stack trace
    #[arg(global = true, long = "log_backtrace_at", value_name = "FILE:N")]
    pub(crate) log_backtrace_at: Option<String>,
    /// If non-empty, write log files in this directory
    #[arg(global = true, long = "log_dir", value_name = "DIR")]
    pub(crate) log_dir: Option<String>,
    /// If non-empty, use this log file
    #[arg(global = true, long = "log_file", value_name = "FILE")]
    pub(crate) log_file: Option<String>,
    /// Defines the maximum size a log file can grow to, in megabytes
    #[arg(global = true, long = "log_file_max_size", default_value = "1800")]
    pub(crate) log_file_max_size: u64,
    /// log to standard error instead of files
    #[arg(global = true, long = "logtostderr", default_value = "true")]
    pub(crate) logtostderr: bool,
    /// If true, only write logs to their native severity level
    #[arg(global = true, long = "one_output")]
    pub(crate) one_output: bool,
    /// If true, avoid header prefixes in the log messages
    #[arg(global = true, long = "skip_headers")]
    pub(crate) skip_headers: bool,
    /// If true, avoid headers when opening log files
    #[arg(global = true, long = "skip_log_headers")]
    pub(crate) skip_log_headers: bool,
    /// logs at or above this threshold go to stderr
    #[arg(global = true, long = "stderrthreshold", value_name = "SEVERITY")]
    pub(crate) stderrthreshold: Option<String>,
}
