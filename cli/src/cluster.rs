//! Reaching the controller through the API server's service proxy, exactly
//! as the reference kubeseal does: look up the Service's first port name, then
//! `/api/v1/namespaces/NS/services/http:NAME:PORT/proxy/v1/...`.

use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use k8s_openapi::api::core::v1::Service;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use sealed_secrets_api::SealedSecret;

use crate::args::ClusterArgs;

pub struct Controller {
    client: Client,
    namespace: String,
    name: String,
    /// The service proxy's base path, from the Service read once.
    proxy_base: std::sync::OnceLock<String>,
}

/// What a call to the controller answered.
pub enum Verdict<T> {
    Ok(T),
    /// 409: the controller holds no key that opens it.
    CannotDecrypt,
}

impl Controller {
    pub async fn connect(args: &ClusterArgs) -> Result<Self> {
        Ok(Self {
            client: client(args).await?,
            namespace: args.controller_namespace.clone(),
            name: args.controller_name.clone(),
            proxy_base: std::sync::OnceLock::new(),
        })
    }

    /// The proxy path of `path` on the controller; the Service is read on the
    /// first call only, however many objects are verified or re-encrypted.
    async fn proxy_path(&self, path: &str) -> Result<String> {
        if let Some(base) = self.proxy_base.get() {
            return Ok(format!("{base}{path}"));
        }
        let base = self.read_proxy_base().await?;
        Ok(format!("{}{path}", self.proxy_base.get_or_init(|| base)))
    }

    async fn read_proxy_base(&self) -> Result<String> {
        let services: Api<Service> = Api::namespaced(self.client.clone(), &self.namespace);
        let service = services.get(&self.name).await.map_err(|e| {
            let hint = match &e {
                kube::Error::Api(s) if s.code == 403 => format!(
                    "you may not read Services in {:?}: ask a cluster admin for `get services` there, or seal offline with --cert",
                    self.namespace
                ),
                _ => "Please, use the flag --controller-name and --controller-namespace to set up the name and namespace of the sealed secrets controller".to_string(),
            };
            anyhow!("cannot get sealed secret service: {}.\n{hint}", api_message(&e))
        })?;
        let port = service
            .spec
            .and_then(|s| s.ports)
            .and_then(|p| p.into_iter().next())
            .and_then(|p| p.name)
            .unwrap_or_default();
        Ok(format!(
            "/api/v1/namespaces/{}/services/http:{}:{port}/proxy",
            self.namespace, self.name
        ))
    }

    fn explain(&self, err: kube::Error, what: &str) -> anyhow::Error {
        let message = api_message(&err);
        let (ns, name) = (&self.namespace, &self.name);
        match &err {
            kube::Error::Api(s) if s.code == 403 => anyhow!(
                "cannot {what}: {message}\nyou may not use the service proxy of {ns}/{name}: ask a cluster admin for `get services/proxy` there, or seal offline with --cert"
            ),
            // The Service was just read, so a 404 (or "no endpoints") from its
            // proxy means nothing is behind it, and a 503 that something is
            // (an endpoint) but nothing answers there.
            kube::Error::Api(s) if s.code == 404 || message.contains("no endpoints") => anyhow!(
                "cannot {what}: the controller's Service {ns}/{name} has no endpoints ({} from the API server's proxy: {message}): \
                 the controller is not running or not ready. Check `kubectl -n {ns} get pods,endpoints {name}`, or seal offline with --cert",
                s.code
            ),
            kube::Error::Api(s) if s.code == 503 => anyhow!(
                "cannot {what}: the controller's Service {ns}/{name} has no process answering (503 from the API server's proxy: {message}); \
                 is the controller running? Check `kubectl -n {ns} get pods,endpoints {name}`, or seal offline with --cert"
            ),
            _ => anyhow!("cannot {what}: {message}"),
        }
    }

    /// Sends `request`, trying again (briefly, twice at most) only when the
    /// API server says it is too busy (429). Anything else fails at once.
    async fn send(&self, request: http::Request<Vec<u8>>) -> Result<String, kube::Error> {
        let mut attempt = 0;
        loop {
            match self.client.request_text(request_clone(&request)).await {
                Err(kube::Error::Api(s)) if s.code == 429 && attempt < BUSY_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(BUSY_PAUSE * attempt).await;
                }
                other => return other,
            }
        }
    }

    /// The newest certificate, PEM.
    pub async fn cert(&self) -> Result<Vec<u8>> {
        let path = self.proxy_path("/v1/cert.pem").await?;
        let request = http::Request::get(path)
            .header(http::header::ACCEPT, "application/x-pem-file, */*")
            .body(Vec::new())
            .context("cannot build the request")?;
        let text = self
            .send(request)
            .await
            .map_err(|e| self.explain(e, "fetch certificate"))?;
        Ok(text.into_bytes())
    }

    /// The sealing page's path through the service proxy, once the
    /// controller served it (it does with `--web-ui`).
    pub async fn ui_path(&self) -> Result<String> {
        let path = self.proxy_path("/ui/").await?;
        let request = http::Request::get(&path)
            .header(http::header::ACCEPT, "text/html")
            .body(Vec::new())
            .context("cannot build the request")?;
        match self.send(request).await {
            Ok(_) => Ok(path),
            // The controller's own 404: it runs without the page.
            Err(kube::Error::Api(s)) if s.code == 404 && s.message.contains("404 page not found") => {
                Err(anyhow!(
                    "the controller {}/{} does not serve the sealing page: start it with --web-ui (or SEALED_SECRETS_WEB_UI=true)",
                    self.namespace,
                    self.name
                ))
            }
            Err(e) => Err(self.explain(e, "open the sealing page")),
        }
    }

    async fn post(&self, path: &str, sealed: &SealedSecret) -> Result<Verdict<String>> {
        let path = self.proxy_path(path).await?;
        let body = serde_json::to_vec(sealed).context("cannot encode the SealedSecret")?;
        let request = http::Request::post(path)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .context("cannot build the request")?;
        match self.send(request).await {
            Ok(text) => Ok(Verdict::Ok(text)),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(Verdict::CannotDecrypt),
            // /v1/rotate answers 500 as the reference does; ours says why
            // (controller/src/http.rs, ROTATE_CANNOT_DECRYPT).
            Err(kube::Error::Api(s))
                if s.code == 500 && s.message.contains("error decrypting secret") =>
            {
                Ok(Verdict::CannotDecrypt)
            }
            Err(e) => Err(self.explain(e, "reach the controller")),
        }
    }

    pub async fn verify(&self, sealed: &SealedSecret) -> Result<Verdict<()>> {
        Ok(match self.post("/v1/verify", sealed).await? {
            Verdict::Ok(_) => Verdict::Ok(()),
            Verdict::CannotDecrypt => Verdict::CannotDecrypt,
        })
    }

    pub async fn rotate(&self, sealed: &SealedSecret) -> Result<Verdict<SealedSecret>> {
        Ok(match self.post("/v1/rotate", sealed).await? {
            Verdict::Ok(text) => Verdict::Ok(
                serde_json::from_str(&text)
                    .context("the controller answered something that is not a SealedSecret")?,
            ),
            Verdict::CannotDecrypt => Verdict::CannotDecrypt,
        })
    }
}

/// How often, and after how long, a request the API server found too busy is sent again.
const BUSY_RETRIES: u32 = 2;
const BUSY_PAUSE: Duration = Duration::from_millis(300);

fn request_clone(request: &http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let mut copy = http::Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    copy
}

fn api_message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
        other => other.to_string(),
    }
}

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
