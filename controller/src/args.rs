use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Arg, ArgAction, Parser};

use sealed_secrets_api::go_duration::{self, GoDuration};

use crate::Error;

/// A Go duration (`time.ParseDuration`) that must not be negative: Go takes
/// `-1h` here too, and then a negative `--key-renew-period` generates keys in
/// a loop and a negative `--key-ttl` certificates that expire before they
/// start, so this refuses it instead.
fn duration(text: &str) -> Result<Duration, String> {
    let parsed = go_duration::parse(text)
        .map_err(|e| format!("{e}: use a Go duration such as 720h, 90m or 1h30m"))?;
    parsed
        .to_std()
        .ok_or_else(|| format!("{text:?} is negative: use 0 or a positive duration such as 720h"))
}

/// A Go duration, any sign, as Go's HTTP server timeouts take it.
fn signed_duration(text: &str) -> Result<GoDuration, String> {
    go_duration::parse(text).map_err(|e| format!("{e}: use a Go duration such as 2m or 30s"))
}

/// Go's pflag booleans, as the reference's flags: `--flag`,
/// `--flag=true|false` or `SEALED_SECRETS_FLAG=true`, hence
/// `require_equals` and a missing value meaning true. Applied to every
/// `bool` field (clap's `SetTrue`); its default stays when the field sets
/// one, else it is `false`.
fn pflag_booleans(arg: Arg) -> Arg {
    if !matches!(arg.get_action(), ArgAction::SetTrue) {
        return arg;
    }
    let arg = if arg.get_default_values().is_empty() {
        arg.default_value("false")
    } else {
        arg
    };
    arg.value_parser(BoolishValueParser::new())
        .action(ArgAction::Set)
        .num_args(0..=1)
        .require_equals(true)
        .default_missing_value("true")
}

/// Flags of the reference controller, each also read from `SEALED_SECRETS_<FLAG>`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "sealed-secrets-controller",
    disable_version_flag = true,
    // As pflag: a flag given twice takes the last value.
    args_override_self = true,
    max_term_width = 100,
    mut_args = pflag_booleans
)]
pub struct Args {
    /// Prefix used to name keys.
    #[arg(
        long,
        env = "SEALED_SECRETS_KEY_PREFIX",
        default_value = "sealed-secrets-key"
    )]
    pub key_prefix: String,
    /// Size of encryption key.
    #[arg(long, env = "SEALED_SECRETS_KEY_SIZE", default_value_t = 4096)]
    pub key_size: usize,
    /// Duration that certificate is valid for.
    #[arg(long, env = "SEALED_SECRETS_KEY_TTL", default_value = "87600h", value_parser = duration)]
    pub key_ttl: Duration,
    /// Common name to be used as issuer/subject DN in generated certificate.
    #[arg(long, env = "SEALED_SECRETS_MY_CN", default_value = "")]
    pub my_cn: String,
    /// New key generation period (automatic rotation deactivated if 0)
    #[arg(long, visible_alias = "rotate-period", env = "SEALED_SECRETS_KEY_RENEW_PERIOD", default_value = "720h", value_parser = duration)]
    pub key_renew_period: Duration,
    /// Ordering of keys based on NotBefore certificate attribute or secret creation timestamp (CertNotBefore|SecretCreationTimestamp; anything else: logged, and CertNotBefore, as the reference).
    #[arg(
        long,
        env = "SEALED_SECRETS_KEY_ORDER_PRIORITY",
        default_value = "CertNotBefore"
    )]
    pub key_order_priority: String,
    /// Create a new key if latest one is older than this cutoff time. RFC1123 format with numeric timezone expected.
    #[arg(long, env = "SEALED_SECRETS_KEY_CUTOFF_TIME", default_value = "")]
    pub key_cutoff_time: String,
    /// How long a key this controller makes (renewal, a renewal request, --key-cutoff-time) waits before it seals: it opens SealedSecrets at once, /v1/cert.pem keeps serving the previous key until then, so it can be backed up first (0: at once, as the reference; the first key is always active at once)
    #[arg(long, env = "SEALED_SECRETS_KEY_ACTIVATION_DELAY", default_value = "0", value_parser = duration)]
    pub key_activation_delay: Duration,
    /// Accept deprecated V1 data field.
    #[arg(
        long = "accept-deprecated-v1-data",
        env = "SEALED_SECRETS_ACCEPT_DEPRECATED_V1_DATA",
        default_value = "true"
    )]
    pub accept_v1_data: bool,
    /// Scan all namespaces or only the current namespace (default=true).
    #[arg(long, env = "SEALED_SECRETS_ALL_NAMESPACES", default_value = "true")]
    pub all_namespaces: bool,
    /// Comma-separated list of additional namespaces to be scanned.
    #[arg(long, env = "SEALED_SECRETS_ADDITIONAL_NAMESPACES", default_value = "")]
    pub additional_namespaces: String,
    /// Label selector which can be used to filter sealed secrets.
    #[arg(long, env = "SEALED_SECRETS_LABEL_SELECTOR", default_value = "")]
    pub label_selector: String,
    /// Number of allowed sustained request per second for verify endpoint
    #[arg(
        long = "rate-limit",
        env = "SEALED_SECRETS_RATE_LIMIT",
        default_value_t = 2
    )]
    pub rate_limit: u32,
    /// Number of requests allowed to exceed the rate limit per second for verify endpoint
    #[arg(
        long = "rate-limit-burst",
        env = "SEALED_SECRETS_RATE_LIMIT_BURST",
        default_value_t = 2
    )]
    pub rate_limit_burst: u32,
    /// When true, the sealed_secrets_controller_condition_info metric is not updated, so the metrics endpoint does not expose SealedSecret namespaces and names.
    #[arg(long, env = "SEALED_SECRETS_METRICS_OMIT_SECRET_LABELS")]
    pub metrics_omit_secret_labels: bool,
    /// Comma-separated list of additional annotations to be put on renewed sealing keys.
    #[arg(
        long,
        env = "SEALED_SECRETS_PRIVATEKEY_ANNOTATIONS",
        default_value = ""
    )]
    pub privatekey_annotations: String,
    /// Comma-separated list of additional labels to be put on renewed sealing keys.
    #[arg(long, env = "SEALED_SECRETS_PRIVATEKEY_LABELS", default_value = "")]
    pub privatekey_labels: String,
    /// Accepted for compatibility; Kubernetes garbage collection always deletes owned Secrets.
    #[arg(long, env = "SEALED_SECRETS_OLD_GC_BEHAVIOR", hide = true)]
    pub old_gc_behavior: bool,
    /// If true, the controller updates the status sub-resource whenever it processes a sealed secret
    #[arg(long, env = "SEALED_SECRETS_UPDATE_STATUS", default_value = "true")]
    pub update_status: bool,
    /// Key Secrets created by others are always picked up; accepted for compatibility.
    #[arg(long, env = "SEALED_SECRETS_WATCH_FOR_SECRETS")]
    pub watch_for_secrets: bool,
    /// If true the controller will skip listening for managed secret changes to recreate them.
    #[arg(long, env = "SEALED_SECRETS_SKIP_RECREATE")]
    pub skip_recreate: bool,
    /// Accepted for compatibility: info logs always go to stdout.
    #[arg(
        long,
        env = "SEALED_SECRETS_LOG_INFO_STDOUT",
        default_value = "true",
        hide = true
    )]
    pub log_info_stdout: bool,
    /// Log level (DEBUG|INFO|WARN|ERROR, with an optional +N/-N as Go's slog, or any tracing filter; anything else: INFO, as the reference).
    #[arg(long, env = "SEALED_SECRETS_LOG_LEVEL", default_value = "INFO")]
    pub log_level: String,
    /// Log format (text|json; anything but json is text, as the reference).
    #[arg(long, env = "SEALED_SECRETS_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
    /// Max unseal retries.
    #[arg(long, env = "SEALED_SECRETS_MAX_UNSEAL_RETRIES", default_value_t = 5)]
    pub max_unseal_retries: u32,
    /// How often a SealedSecret whose Secret still cannot be written after --max-unseal-retries is tried again (0: never, as the reference)
    #[arg(long, env = "SEALED_SECRETS_UNSEAL_RETRY_PERIOD", default_value = "5m", value_parser = duration)]
    pub unseal_retry_period: Duration,
    /// Reconcile every SealedSecret, and list Secrets again, at least this often: the bound on how long any missed change stays unapplied (0: never)
    #[arg(long, env = "SEALED_SECRETS_RESYNC_PERIOD", default_value = "10m", value_parser = duration)]
    pub resync_period: Duration,
    /// Write kstatus' Ready, Stalled and Reconciling conditions (read by Flux, Fleet, kubectl wait) next to Synced; false removes them (before moving back to the reference, which never clears them)
    #[arg(
        long,
        env = "SEALED_SECRETS_KSTATUS_CONDITIONS",
        default_value = "true"
    )]
    pub kstatus_conditions: bool,
    /// Put back the data of a Secret someone edited by hand (only the keys its SealedSecret defines); off per object with the SealedSecret annotation sealedsecrets.bitnami.com/revert-drift: "false"
    #[arg(long, env = "SEALED_SECRETS_REVERT_DRIFT", default_value = "true")]
    pub revert_drift: bool,
    /// The KMS v2 plugin that wraps the private keys (unix:///PATH to its socket): new keys are stored wrapped, and only wrapped keys seal (README, "Keys protected by a KMS"). Empty: plain key Secrets, as the reference
    #[arg(long, env = "SEALED_SECRETS_KMS_ENDPOINT", default_value = "")]
    pub kms_endpoint: String,
    /// How long one call to the KMS plugin may take
    #[arg(long, env = "SEALED_SECRETS_KMS_TIMEOUT", default_value = "3s", value_parser = duration)]
    pub kms_timeout: Duration,
    /// How often the KMS plugin's Status is asked (its health, and a new key_id to wrap the keys under): the API server's minute; shorter in tests
    #[arg(long, env = "SEALED_SECRETS_KMS_STATUS_PERIOD", default_value = "1m", value_parser = duration, hide = true)]
    pub kms_status_period: Duration,
    /// Accepted for compatibility (negative: no rate limiting in the reference;
    /// `--kubeclient-qps -1` is a value, as with pflag, and the Helm chart passes it so).
    #[arg(
        long,
        env = "SEALED_SECRETS_KUBECLIENT_QPS",
        default_value_t = 5.0,
        allow_negative_numbers = true,
        hide = true
    )]
    pub kubeclient_qps: f32,
    /// Accepted for compatibility.
    #[arg(
        long,
        env = "SEALED_SECRETS_KUBECLIENT_BURST",
        default_value_t = 10,
        hide = true
    )]
    pub kubeclient_burst: u32,
    /// HTTP serving address.
    #[arg(long, env = "SEALED_SECRETS_LISTEN_ADDR", default_value = ":8080")]
    pub listen_addr: String,
    /// HTTP metrics serving address.
    #[arg(
        long,
        env = "SEALED_SECRETS_LISTEN_METRICS_ADDR",
        default_value = ":8081"
    )]
    pub listen_metrics_addr: String,
    /// HTTP request timeout: the headers of a request must arrive within it (0 or negative: none).
    #[arg(long, env = "SEALED_SECRETS_READ_TIMEOUT", default_value = "2m", value_parser = signed_duration, allow_hyphen_values = true)]
    pub read_timeout: GoDuration,
    /// HTTP response timeout: a response not ready within it after its request's headers is not sent, the connection is closed (0 or negative: none).
    #[arg(long, env = "SEALED_SECRETS_WRITE_TIMEOUT", default_value = "2m", value_parser = signed_duration, allow_hyphen_values = true)]
    pub write_timeout: GoDuration,
    /// Elect a leader among the replicas on a Lease: only the leader writes (Secrets, statuses, events, new keys); every replica serves the HTTP API. Off by default: the reference's RBAC grants no access to Leases.
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT")]
    pub leader_elect: bool,
    /// How long a Lease holds without renewal before another replica may take it.
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT_LEASE_DURATION", default_value = "15s", value_parser = duration)]
    pub leader_elect_lease_duration: Duration,
    /// How long the leader keeps writing without a successful renewal.
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT_RENEW_DEADLINE", default_value = "10s", value_parser = duration)]
    pub leader_elect_renew_deadline: Duration,
    /// How often replicas try to acquire or renew the Lease.
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT_RETRY_PERIOD", default_value = "2s", value_parser = duration)]
    pub leader_elect_retry_period: Duration,
    /// Name of the Lease.
    #[arg(
        long,
        env = "SEALED_SECRETS_LEADER_ELECT_RESOURCE_NAME",
        default_value = "sealed-secrets-controller"
    )]
    pub leader_elect_resource_name: String,
    /// Namespace of the Lease (default: the controller's own).
    #[arg(
        long,
        env = "SEALED_SECRETS_LEADER_ELECT_RESOURCE_NAMESPACE",
        default_value = ""
    )]
    pub leader_elect_resource_namespace: String,
    /// Serve a web page at /ui/ that seals Secrets in the browser with the controller's public certificate: values are encrypted in the page and never sent (see README, "Sealing in the browser"). Off by default.
    #[arg(long, env = "SEALED_SECRETS_WEB_UI")]
    pub web_ui: bool,
    /// The cluster's name, shown by the web page (--web-ui) as the cluster it seals for, and in its download file names: at most 63 letters, digits, '-' and '_', starting with a letter or digit. Empty: the page names no cluster.
    #[arg(long, env = "SEALED_SECRETS_CLUSTER_NAME", default_value = "")]
    pub cluster_name: String,
    /// Print version information and exit
    #[arg(long, env = "SEALED_SECRETS_VERSION")]
    pub version: bool,
}

/// `:8080` means every interface, as in Go.
pub(crate) fn socket_addr(listen: &str, flag: &'static str) -> Result<std::net::SocketAddr, Error> {
    let full = if listen.starts_with(':') {
        format!("0.0.0.0{listen}")
    } else {
        listen.to_string()
    };
    full.parse().map_err(|e| Error::Flag {
        flag,
        reason: format!("invalid listen address {listen:?}: {e}; expected HOST:PORT or :PORT"),
    })
}

/// `a=b,c=d` into pairs.
pub(crate) fn key_values(text: &str, flag: &'static str) -> Result<Vec<(String, String)>, Error> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| Error::Flag {
                    flag,
                    reason: format!("{pair:?} is not key=value"),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests;
