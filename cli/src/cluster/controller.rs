//! Reaching the controller through the API server's service proxy, exactly
//! as the reference kubeseal does: look up the Service's first port name, then
//! `/api/v1/namespaces/NS/services/http:NAME:PORT/proxy/v1/...`.

use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use k8s_openapi::api::core::v1::Service;
use kube::{Api, Client};
use sealed_secrets_api::SealedSecret;

use super::api_error::api_message;
use super::client::client;
use super::flags::ClusterArgs;

pub(crate) struct Controller {
    client: Client,
    namespace: String,
    name: String,
    /// The service proxy's base path, from the Service read once.
    proxy_base: std::sync::OnceLock<String>,
}

/// What a call to the controller answered.
pub(crate) enum Verdict<T> {
    Ok(T),
    /// 409: the controller holds no key that opens it.
    CannotDecrypt,
}

impl Controller {
    pub(crate) async fn connect(args: &ClusterArgs) -> Result<Self> {
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
    pub(crate) async fn cert(&self) -> Result<Vec<u8>> {
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
    pub(crate) async fn ui_path(&self) -> Result<String> {
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

    pub(crate) async fn verify(&self, sealed: &SealedSecret) -> Result<Verdict<()>> {
        Ok(match self.post("/v1/verify", sealed).await? {
            Verdict::Ok(_) => Verdict::Ok(()),
            Verdict::CannotDecrypt => Verdict::CannotDecrypt,
        })
    }

    pub(crate) async fn rotate(&self, sealed: &SealedSecret) -> Result<Verdict<SealedSecret>> {
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
