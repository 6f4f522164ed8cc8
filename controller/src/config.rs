//! The controller's configuration: the flags parsed once, before anything
//! starts, into the typed values the parts take. A bad flag is an error that
//! names it; nothing later parses a flag's text again.

use std::net::SocketAddr;
use std::time::SystemTime;

use crate::args::{self, Args};
use crate::http::serve::Timeouts;
use crate::keys::{self, KeyConfig, KeyOrder};
use crate::leader::{lease_config, LeaseConfig};
use crate::Error;

/// `POD_NAMESPACE`, else the service account's namespace, else `default`.
pub fn pod_namespace() -> String {
    if let Ok(ns) = std::env::var("POD_NAMESPACE") {
        if !ns.is_empty() {
            return ns;
        }
    }
    std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        .ok()
        .map(|ns| ns.trim().to_string())
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

/// Where the KMS v2 plugin listens, and how long a call may take.
#[derive(Debug, Clone)]
pub struct KmsConfig {
    pub endpoint: String,
    pub timeout: std::time::Duration,
}

pub struct Config {
    /// The controller's own namespace: its keys, its Lease.
    pub namespace: String,
    pub http_addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub keys: KeyConfig,
    /// `--key-cutoff-time`: keys made before it are renewed.
    pub key_cutoff: Option<SystemTime>,
    /// `None` without `--leader-elect`.
    pub lease: Option<LeaseConfig>,
    /// One watch per entry; `None` is every namespace.
    pub watched: Vec<Option<String>>,
    pub timeouts: Timeouts,
    /// `--kms-endpoint` and `--kms-timeout`; `None` without a KMS.
    pub kms: Option<KmsConfig>,
    /// `--cluster-name`, checked; `None` when empty.
    pub cluster_name: Option<String>,
    /// The flags that need no parsing (numbers, switches, durations).
    pub flags: Args,
}

impl Config {
    pub fn new(flags: Args, namespace: String) -> Result<Self, Error> {
        let keys = KeyConfig {
            namespace: namespace.clone(),
            prefix: flags.key_prefix.clone(),
            bits: flags.key_size,
            ttl: flags.key_ttl,
            common_name: flags.my_cn.clone(),
            order: key_order(&flags.key_order_priority),
            extra_labels: args::key_values(&flags.privatekey_labels, "privatekey-labels")?,
            extra_annotations: args::key_values(
                &flags.privatekey_annotations,
                "privatekey-annotations",
            )?,
            activation_delay: flags.key_activation_delay,
        };
        Ok(Self {
            http_addr: args::socket_addr(&flags.listen_addr, "listen-addr")?,
            metrics_addr: args::socket_addr(&flags.listen_metrics_addr, "listen-metrics-addr")?,
            key_cutoff: keys::parse_cutoff(&flags.key_cutoff_time)?,
            lease: lease_config(&flags, &namespace)?,
            watched: watched_namespaces(&flags, &namespace),
            timeouts: Timeouts {
                read: flags.read_timeout.as_timeout(),
                write: flags.write_timeout.as_timeout(),
            },
            kms: kms_config(&flags)?,
            cluster_name: cluster_name(&flags.cluster_name)?,
            keys,
            namespace,
            flags,
        })
    }
}

/// `--kms-endpoint`: a unix socket, as the API server takes its plugins.
fn kms_config(flags: &Args) -> Result<Option<KmsConfig>, Error> {
    let endpoint = flags.kms_endpoint.trim();
    if endpoint.is_empty() {
        return Ok(None);
    }
    let path = endpoint.strip_prefix("unix://").unwrap_or_default();
    if path.is_empty() || !(path.starts_with('/') || path.starts_with('@')) {
        return Err(Error::Flag {
            flag: "kms-endpoint",
            reason: format!(
                "{endpoint:?} is not a unix socket: use unix:///PATH (the plugin's socket, e.g. unix:///var/run/kmsplugin/socket.sock)"
            ),
        });
    }
    if flags.kms_timeout.is_zero() {
        return Err(Error::Flag {
            flag: "kms-timeout",
            reason: "must be longer than 0".into(),
        });
    }
    Ok(Some(KmsConfig {
        endpoint: endpoint.to_string(),
        timeout: flags.kms_timeout,
    }))
}

/// `--cluster-name`: the rule of kubeseal's `--cert NAME=` (it goes into
/// the page's download file names as is); empty is no name.
fn cluster_name(text: &str) -> Result<Option<String>, Error> {
    if text.is_empty() {
        return Ok(None);
    }
    if !sealed_secrets_api::cluster_name::is_valid(text) {
        return Err(Error::Flag {
            flag: "cluster-name",
            reason: format!(
                "{:?} is not a cluster name: use at most {} letters, digits, '-' and '_', starting with a letter or digit (e.g. oslo or prod-eu_1), or leave it empty",
                text.chars().take(80).collect::<String>(),
                sealed_secrets_api::cluster_name::MAX_LEN
            ),
        });
    }
    Ok(Some(text.to_string()))
}

/// `--key-order-priority`: anything but the two known values is logged and
/// means CertNotBefore, as in the reference (which logs it per key).
fn key_order(text: &str) -> KeyOrder {
    if !matches!(text, "SecretCreationTimestamp" | "CertNotBefore") {
        tracing::error!(
            key_order_priority = text,
            "Invalid keyOrderPriority. Use CertNotBefore or SecretCreationTimestamp; using CertNotBefore"
        );
    }
    KeyOrder::parse(text)
}

/// As the reference: all namespaces (`None`) only when `--all-namespaces`
/// (the default) and `--additional-namespaces` is empty; otherwise the
/// controller's own namespace plus each listed one (trimmed, deduplicated).
fn watched_namespaces(args: &Args, own: &str) -> Vec<Option<String>> {
    if args.all_namespaces && args.additional_namespaces.is_empty() {
        return vec![None];
    }
    let mut namespaces = vec![own.to_string()];
    for ns in args.additional_namespaces.split(',').map(str::trim) {
        if !ns.is_empty() && !namespaces.iter().any(|n| n == ns) {
            namespaces.push(ns.to_string());
        }
    }
    namespaces.into_iter().map(Some).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched(flags: &[&str]) -> Vec<Option<String>> {
        use clap::Parser as _;
        let args = Args::try_parse_from(std::iter::once("controller").chain(flags.iter().copied()))
            .unwrap();
        watched_namespaces(&args, "home")
    }

    fn some(names: &[&str]) -> Vec<Option<String>> {
        names.iter().map(|n| Some(n.to_string())).collect()
    }

    #[test]
    fn additional_namespaces_limit_watching_even_with_all_namespaces_default() {
        assert_eq!(watched(&[]), vec![None]);
        assert_eq!(watched(&["--all-namespaces=false"]), some(&["home"]));
        assert_eq!(
            watched(&["--additional-namespaces=a, b,,a,home"]),
            some(&["home", "a", "b"])
        );
        assert_eq!(
            watched(&["--all-namespaces=true", "--additional-namespaces=a"]),
            some(&["home", "a"])
        );
        assert_eq!(
            watched(&["--all-namespaces=false", "--additional-namespaces="]),
            some(&["home"])
        );
        // Go tests the raw string: blanks alone still leave only the home namespace.
        assert_eq!(watched(&["--additional-namespaces= "]), some(&["home"]));
    }

    #[test]
    fn unknown_key_order_priority_means_cert_not_before() {
        assert!(matches!(key_order("Newest"), KeyOrder::CertNotBefore));
        assert!(matches!(
            key_order("SecretCreationTimestamp"),
            KeyOrder::SecretCreationTimestamp
        ));
    }

    #[test]
    fn a_bad_flag_is_refused_before_anything_starts() {
        use clap::Parser as _;
        let parse = |flag: &str| {
            let args = Args::try_parse_from(["controller", flag]).unwrap();
            Config::new(args, "home".into())
                .err()
                .map(|e| e.to_string())
        };
        assert!(parse("--listen-addr=nowhere").is_some());
        assert!(parse("--key-cutoff-time=yesterday").is_some());
        assert!(parse("--privatekey-labels=novalue").is_some());
        assert_eq!(parse("--listen-addr=:9090"), None);
    }

    #[test]
    fn cluster_name_is_checked_and_empty_is_none() {
        assert_eq!(cluster_name("").ok(), Some(None));
        for good in ["oslo", "prod-eu_1", "7", &"a".repeat(63)] {
            assert_eq!(
                cluster_name(good).ok(),
                Some(Some(good.to_string())),
                "{good}"
            );
        }
        for bad in [
            "-oslo",
            "_x",
            "a.b",
            "a/b",
            "a b",
            " oslo",
            "<b>",
            "ø",
            "a\u{0}",
            &"a".repeat(64),
        ] {
            let err = cluster_name(bad).expect_err(bad).to_string();
            assert!(err.contains("--cluster-name"), "{bad}: {err}");
            assert!(err.contains("at most 63 letters, digits"), "{bad}: {err}");
        }
    }
}
