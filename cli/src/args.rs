use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser};

// Boolean flags take `--flag`, `--flag=true|false`, or `SEALED_SECRETS_FLAG=true`,
// as Go's pflag does, hence `require_equals` and a missing value meaning true.

#[derive(Debug, Parser)]
#[command(
    name = "kubeseal",
    about = "Seal a Kubernetes Secret so that only the cluster's sealed-secrets controller can open it.",
    long_about = "Reads a Secret (JSON or YAML, several documents allowed) from stdin or -f, \
and writes SealedSecrets, safe to commit to Git, to stdout or -w.\n\n\
Every flag can also be set in the environment as SEALED_SECRETS_<FLAG_NAME>, e.g. SEALED_SECRETS_CERT.",
    disable_version_flag = true,
    // As pflag: a flag given twice takes the last value (lists still add up).
    args_override_self = true,
    max_term_width = 100
)]
pub struct Args {
    #[command(flatten)]
    pub seal: SealArgs,
    #[command(flatten)]
    pub modes: ModeArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Administration: `kubeseal admin keys ...`, `kubeseal admin reencrypt ...`
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Print version information and exit
    #[arg(long, env = "SEALED_SECRETS_VERSION", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub version: bool,
}

/// Subcommands beside the reference-compatible flags.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Administer the controller: list, rotate, back up, restore and prune its keys; re-encrypt SealedSecret files
    Admin(crate::admin::AdminArgs),
}

#[derive(Debug, clap::Args)]
pub struct SealArgs {
    /// Certificate / public key file/URL to use for encryption. Overrides --controller-*
    #[arg(long, env = "SEALED_SECRETS_CERT", value_name = "FILE|URL")]
    pub cert: Option<String>,
    /// Output format for sealed secret. Either json or yaml [default: json]
    #[arg(short = 'o', long, env = "SEALED_SECRETS_FORMAT", value_parser = ["json", "yaml"], ignore_case = true)]
    pub format: Option<String>,
    /// Sealed-secret (output) file; a .yaml/.yml name implies -o yaml
    #[arg(
        short = 'w',
        long = "sealed-secret-file",
        env = "SEALED_SECRETS_SEALED_SECRET_FILE"
    )]
    pub output_file: Option<PathBuf>,
    /// Secret (input) file
    #[arg(short = 'f', long = "secret-file", env = "SEALED_SECRETS_SECRET_FILE")]
    pub input_file: Option<PathBuf>,
    /// Allow empty data in the secret object
    #[arg(long, env = "SEALED_SECRETS_ALLOW_EMPTY_DATA", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub allow_empty_data: bool,
    /// Merge items from secret into an existing sealed secret file, updating the file in-place instead of writing to stdout.
    #[arg(long, env = "SEALED_SECRETS_MERGE_INTO", value_name = "FILE")]
    pub merge_into: Option<PathBuf>,
    /// Encrypt a raw value passed via the --from-* flags instead of the whole secret object
    #[arg(long, env = "SEALED_SECRETS_RAW", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub raw: bool,
    /// Name of the sealed secret (required with --raw and default (strict) scope)
    #[arg(long, env = "SEALED_SECRETS_NAME")]
    pub name: Option<String>,
    /// (only with --raw) Secret items can be sourced from files. Pro-tip: you can use /dev/stdin to read pipe input. This flag tries to follow the same syntax as in kubectl
    #[arg(
        long,
        env = "SEALED_SECRETS_FROM_FILE",
        value_delimiter = ',',
        value_name = "[KEY=]FILE"
    )]
    pub from_file: Vec<String>,
    /// Set the scope of the sealed secret: strict, namespace-wide, cluster-wide (defaults to strict). Mandatory for --raw, otherwise the 'sealedsecrets.bitnami.com/cluster-wide' and 'sealedsecrets.bitnami.com/namespace-wide' annotations on the input secret can be used to select the scope.
    #[arg(long, env = "SEALED_SECRETS_SCOPE", default_value = "strict", value_parser = ["strict", "namespace-wide", "cluster-wide"])]
    pub scope: String,
}

#[derive(Debug, clap::Args)]
pub struct ModeArgs {
    /// Write certificate to stdout. Useful for later use with --cert
    #[arg(long, env = "SEALED_SECRETS_FETCH_CERT", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub fetch_cert: bool,
    /// Print the address of the controller's sealing page (controller flag --web-ui) through `kubectl proxy` on its default port, after checking that the controller serves it.
    #[arg(long = "open-ui", env = "SEALED_SECRETS_OPEN_UI", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub open_ui: bool,
    /// Validate that the sealed secret can be decrypted
    #[arg(long, env = "SEALED_SECRETS_VALIDATE", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub validate: bool,
    /// Re-encrypt the given sealed secret to use the latest cluster key.
    #[arg(long = "re-encrypt", visible_alias = "rotate", env = "SEALED_SECRETS_RE_ENCRYPT", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub re_encrypt: bool,
    /// Decrypt a sealed secrets file obtained from stdin, using the private key passed with --recovery-private-key. Intended to be used in disaster recovery mode.
    #[arg(long, env = "SEALED_SECRETS_RECOVERY_UNSEAL", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub recovery_unseal: bool,
    /// Private key filename used by the --recovery-unseal command. Multiple files accepted either via comma separated list or by repetition of the flag. Either PEM encoded private keys or a backup of a json/yaml encoded k8s sealed-secret controller secret (and v1.List) are accepted.
    #[arg(
        long,
        env = "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
        value_delimiter = ',',
        value_name = "FILE"
    )]
    pub recovery_private_key: Vec<PathBuf>,
}

/// Where the controller is and how to reach the cluster: kubectl's flags.
/// Global, so they also work after `admin ...` subcommands.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    /// Name of sealed-secrets controller.
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_CONTROLLER_NAME",
        default_value = "sealed-secrets-controller"
    )]
    pub controller_name: String,
    /// Namespace of sealed-secrets controller.
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_CONTROLLER_NAMESPACE",
        default_value = "kube-system"
    )]
    pub controller_namespace: String,
    /// Path to a kube config. Only required if out-of-cluster
    #[arg(global = true, long, env = "SEALED_SECRETS_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// If present, the namespace scope for this CLI request
    #[arg(global = true, short = 'n', long, env = "SEALED_SECRETS_NAMESPACE")]
    pub namespace: Option<String>,
    /// The name of the kubeconfig context to use
    #[arg(global = true, long, env = "SEALED_SECRETS_CONTEXT")]
    pub context: Option<String>,
    /// The name of the kubeconfig cluster to use
    #[arg(global = true, long, env = "SEALED_SECRETS_CLUSTER")]
    pub cluster: Option<String>,
    /// The name of the kubeconfig user to use
    #[arg(global = true, long, env = "SEALED_SECRETS_USER")]
    pub user: Option<String>,
    /// The address and port of the Kubernetes API server
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_SERVER",
        visible_short_alias = 's'
    )]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Username to impersonate for the operation
    #[arg(global = true, long = "as", env = "SEALED_SECRETS_AS")]
    pub as_user: Option<String>,
    /// Group to impersonate for the operation, this flag can be repeated to specify multiple groups.
    #[arg(global = true, long = "as-group", env = "SEALED_SECRETS_AS_GROUP")]
    pub as_group: Vec<String>,
    /// UID to impersonate for the operation
    #[arg(global = true, long = "as-uid", env = "SEALED_SECRETS_AS_UID")]
    pub as_uid: Option<String>,
    /// Path to a cert file for the certificate authority
    #[arg(global = true, long, env = "SEALED_SECRETS_CERTIFICATE_AUTHORITY")]
    pub certificate_authority: Option<PathBuf>,
    /// Path to a client certificate file for TLS
    #[arg(global = true, long, env = "SEALED_SECRETS_CLIENT_CERTIFICATE")]
    pub client_certificate: Option<PathBuf>,
    /// Path to a client key file for TLS
    #[arg(global = true, long, env = "SEALED_SECRETS_CLIENT_KEY")]
    pub client_key: Option<PathBuf>,
    /// If true, the server's certificate will not be checked for validity. This will make your HTTPS connections insecure
    #[arg(global = true, long, env = "SEALED_SECRETS_INSECURE_SKIP_TLS_VERIFY", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub insecure_skip_tls_verify: bool,
    /// If provided, this name will be used to validate server certificate.
    #[arg(global = true, long, env = "SEALED_SECRETS_TLS_SERVER_NAME")]
    pub tls_server_name: Option<String>,
    /// The length of time to wait before giving up on a single server request (e.g. 1s, 2m). 0 means no timeout
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_REQUEST_TIMEOUT",
        default_value = "0"
    )]
    pub request_timeout: String,
    /// Username for basic authentication to the API server
    #[arg(global = true, long, env = "SEALED_SECRETS_USERNAME")]
    pub username: Option<String>,
    /// Password for basic authentication to the API server
    #[arg(
        global = true,
        long,
        env = "SEALED_SECRETS_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// If provided, this URL will be used to connect via proxy (http:// or https://)
    #[arg(global = true, long, env = "SEALED_SECRETS_PROXY_URL")]
    pub proxy_url: Option<String>,
    /// If true, opt-out of response compression for all requests to the server (kubeseal never asks for compressed responses)
    #[arg(global = true, long, env = "SEALED_SECRETS_DISABLE_COMPRESSION", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub disable_compression: bool,
    #[command(flatten)]
    pub klog: KlogArgs,
}

/// The klog flags the reference kubeseal registers (Go flag names, with
/// underscores). They only tune client-go's logging there; here they are
/// accepted, checked for their type, and ignored. As in the reference, they
/// are not read from SEALED_SECRETS_* variables.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "klog flags of the reference kubeseal (accepted and ignored)")]
pub struct KlogArgs {
    /// Log verbosity
    #[arg(
        global = true,
        short = 'v',
        long = "v",
        default_value = "0",
        allow_negative_numbers = true,
        value_name = "LEVEL"
    )]
    pub v: i32,
    /// comma-separated list of pattern=N settings for file-filtered logging
    #[arg(global = true, long = "vmodule", value_name = "SPEC")]
    pub vmodule: Option<String>,
    /// If true, adds the file directory to the header of the log messages
    #[arg(global = true, long = "add_dir_header", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub add_dir_header: bool,
    /// log to standard error as well as files
    #[arg(global = true, long = "alsologtostderr", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub alsologtostderr: bool,
    /// logs at or above this threshold go to stderr when -alsologtostderr=true
    #[arg(
        global = true,
        long = "alsologtostderrthreshold",
        value_name = "SEVERITY"
    )]
    pub alsologtostderrthreshold: Option<String>,
    /// If true, stderrthreshold is ignored when logtostderr=true (legacy behavior)
    #[arg(global = true, long = "legacy_stderr_threshold_behavior", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true")]
    pub legacy_stderr_threshold_behavior: bool,
    /// when logging hits line file:N, emit a stack trace
    #[arg(global = true, long = "log_backtrace_at", value_name = "FILE:N")]
    pub log_backtrace_at: Option<String>,
    /// If non-empty, write log files in this directory
    #[arg(global = true, long = "log_dir", value_name = "DIR")]
    pub log_dir: Option<String>,
    /// If non-empty, use this log file
    #[arg(global = true, long = "log_file", value_name = "FILE")]
    pub log_file: Option<String>,
    /// Defines the maximum size a log file can grow to, in megabytes
    #[arg(global = true, long = "log_file_max_size", default_value = "1800")]
    pub log_file_max_size: u64,
    /// log to standard error instead of files
    #[arg(global = true, long = "logtostderr", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true")]
    pub logtostderr: bool,
    /// If true, only write logs to their native severity level
    #[arg(global = true, long = "one_output", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub one_output: bool,
    /// If true, avoid header prefixes in the log messages
    #[arg(global = true, long = "skip_headers", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub skip_headers: bool,
    /// If true, avoid headers when opening log files
    #[arg(global = true, long = "skip_log_headers", value_parser = BoolishValueParser::new(), action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub skip_log_headers: bool,
    /// logs at or above this threshold go to stderr
    #[arg(global = true, long = "stderrthreshold", value_name = "SEVERITY")]
    pub stderrthreshold: Option<String>,
}
