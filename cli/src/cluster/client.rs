//! The Kubernetes client, configured from the kubeconfig and kubectl's flags
//! as kubectl and the reference kubeseal (client-go) configure theirs.

use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::flags::ClusterArgs;

/// A Kubernetes client configured by [`client_config`].
pub(crate) async fn client(args: &ClusterArgs) -> Result<Client> {
    let config = client_config(args).await?;
    Client::try_from(config).context("cannot build the Kubernetes client")
}

/// kubectl's rules: --kubeconfig, else KUBECONFIG, else ~/.kube/config, else
/// in-cluster; then --context/--cluster/--user and the connection overrides.
async fn client_config(args: &ClusterArgs) -> Result<Config> {
    // kube's TLS takes the process-wide rustls provider, and ureq enables
    // ring besides aws-lc: name it. Here, not in main: offline sealing never
    // needs TLS and should not pay for setting it up.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let options = KubeConfigOptions {
        context: args.context.clone(),
        cluster: args.cluster.clone(),
        user: args.user.clone(),
    };
    let mut config = match &args.kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path).with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(file, &options).await.context("invalid kubeconfig")?
        }
        None => match Config::from_kubeconfig(&options).await {
            Ok(config) => config,
            Err(file_error) => Config::incluster().map_err(|_| {
                anyhow!(
                    "no usable kubeconfig ({file_error}) and not running in a cluster: set KUBECONFIG or --kubeconfig, or seal offline with --cert"
                )
            })?,
        },
    };
    if let Some(server) = &args.server {
        config.cluster_url = server
            .parse()
            .with_context(|| format!("invalid --server {server:?}"))?;
    }
    if let Some(token) = &args.token {
        config.auth_info.token = Some(token.clone().into());
    }
    if args.insecure_skip_tls_verify {
        config.accept_invalid_certs = true;
    }
    if let Some(ca) = &args.certificate_authority {
        let pem = std::fs::read(ca)
            .with_context(|| format!("cannot read --certificate-authority {}", ca.display()))?;
        let ders = pem::parse_many(&pem)
            .with_context(|| format!("--certificate-authority {} is not PEM", ca.display()))?
            .into_iter()
            .map(|p| p.into_contents())
            .collect();
        config.root_cert = Some(ders);
    }
    // kube retries 429, 503 and 504 up to 15 times with backoff growing to
    // minutes; a 503 from the service proxy (nothing listens behind the
    // controller's Service) then hangs kubeseal for minutes. kubectl and the
    // reference fail at once: so do we (see `Controller::send`).
    config.default_retry = false;
    if let Some(name) = &args.tls_server_name {
        config.tls_server_name = Some(name.clone());
    }
    if let Some(user) = &args.as_user {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !args.as_group.is_empty() {
        config.auth_info.impersonate_groups = Some(args.as_group.clone());
    }
    if let Some(uid) = &args.as_uid {
        config.auth_info.impersonate_uid = Some(uid.clone());
    }
    if let Some(username) = &args.username {
        config.auth_info.username = Some(username.clone());
        // client-go sends Basic auth whenever a username is set, even with no password.
        config.auth_info.password = Some(args.password.clone().unwrap_or_default().into());
    } else if let Some(password) = &args.password {
        config.auth_info.password = Some(password.clone().into());
    }
    if let Some(url) = &args.proxy_url {
        config.proxy_url = Some(parse_proxy_url(url)?);
    }
    if args.disable_compression {
        config.disable_compression = true;
    }
    validate_auth(&config.auth_info)?;
    let timeout = parse_timeout(&args.request_timeout)?;
    if timeout.is_some() {
        config.read_timeout = timeout;
        config.write_timeout = timeout;
        config.connect_timeout = timeout;
    }
    Ok(config)
}

/// client-go's checks of the merged user (kubeconfig and flags), with its words.
fn validate_auth(auth: &kube::config::AuthInfo) -> Result<()> {
    let has_token = auth.token.is_some() || auth.token_file.is_some();
    let has_basic = auth.username.is_some() || auth.password.is_some();
    if has_token && has_basic {
        anyhow::bail!(
            "invalid configuration: more than one authentication method found; found [token basicAuth], only one is allowed: \
             drop --token (or the kubeconfig user's token) or --username/--password"
        );
    }
    let qualifies = auth.impersonate_uid.is_some()
        || auth
            .impersonate_groups
            .as_ref()
            .is_some_and(|g| !g.is_empty())
        || auth
            .impersonate_user_extra
            .as_ref()
            .is_some_and(|e| !e.is_empty());
    if qualifies && auth.impersonate.is_none() {
        anyhow::bail!(
            "invalid configuration: requesting uid, groups or user-extra without impersonating a user: \
             add --as USER (--as-group and --as-uid only say more about whom --as impersonates)"
        );
    }
    Ok(())
}

/// `--proxy-url`: http:// and https:// proxies (client-go also takes socks5://).
fn parse_proxy_url(text: &str) -> Result<http::Uri> {
    let uri: http::Uri = text.parse().with_context(|| {
        format!("invalid --proxy-url {text:?}: use e.g. http://proxy.example:3128")
    })?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => Ok(uri),
        _ => Err(anyhow!(
            "invalid --proxy-url {text:?}: kubeseal supports http:// and https:// proxies, e.g. http://proxy.example:3128"
        )),
    }
}

/// client-go's `ParseTimeout`: whole seconds, or a Go duration; zero or
/// negative is no timeout.
fn parse_timeout(text: &str) -> Result<Option<Duration>> {
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(seconds) = text.parse::<i64>() {
        if let Ok(seconds) = u64::try_from(seconds) {
            return Ok(Some(Duration::from_secs(seconds)).filter(|d| !d.is_zero()));
        }
    }
    let parsed = sealed_secrets_api::go_duration::parse(text).map_err(|_| {
        anyhow!(
            "Invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)"
        )
    })?;
    Ok(parsed.as_timeout())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeout_parses_as_client_go() {
        assert_eq!(parse_timeout("0").unwrap(), None);
        assert_eq!(parse_timeout("5").unwrap(), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_timeout("1m30s").unwrap(),
            Some(Duration::from_secs(90))
        );
        assert_eq!(parse_timeout("-1s").unwrap(), None);
        for bad in ["-5", "1.5", "1d", "ten"] {
            let err = parse_timeout(bad).unwrap_err().to_string();
            assert!(err.contains("Invalid timeout value"), "{bad}: {err}");
        }
    }

    #[test]
    fn proxy_urls_must_be_http_or_https_with_a_host() {
        assert!(parse_proxy_url("http://127.0.0.1:3128").is_ok());
        assert!(parse_proxy_url("https://proxy.example").is_ok());
        assert!(parse_proxy_url("socks5://127.0.0.1:1080").is_err());
        assert!(parse_proxy_url("127.0.0.1:3128").is_err());
    }
}
