//! The gRPC client of a KMS v2 plugin, over its unix socket.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint, Uri};
use zeroize::Zeroizing;

use crate::error::cut;
use crate::v2::key_management_service_client::KeyManagementServiceClient;
use crate::{v2, validate, Error, Result};

/// How much of a refusal's message an error keeps.
const MESSAGE_SHOWN: usize = 512;

/// The three calls of the API, to say which one failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Status,
    Encrypt,
    Decrypt,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Status => "Status",
            Method::Encrypt => "Encrypt",
            Method::Decrypt => "Decrypt",
        })
    }
}

/// A plugin's Status, validated: `healthz` is `ok`, `version` is `v2` or
/// `v2beta1`, `key_id` (the current key) is 1..=1024 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub version: String,
    pub healthz: String,
    pub key_id: String,
}

/// What Encrypt returned, validated; Decrypt needs all of it back, byte for
/// byte. Nothing in it is secret (the API server stores it in the clear).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapped {
    /// 1..=1024 bytes.
    pub ciphertext: Vec<u8>,
    /// The plugin's key (KEK) that encrypted it, 1..=1024 bytes.
    pub key_id: String,
    /// Keys are fully qualified domain names; keys and values ≤ 32 KiB.
    pub annotations: BTreeMap<String, Vec<u8>>,
}

/// A client of one KMS v2 plugin. Cheap to clone (one shared connection).
///
/// The socket is dialled lazily, on the first call, and again on the call
/// after a failure: a plugin that is not up yet, or restarts, only fails the
/// calls made while it is away ([`Error::Unreachable`], [`Error::TimedOut`]).
#[derive(Debug, Clone)]
pub struct KmsClient {
    endpoint: String,
    timeout: Duration,
    client: KeyManagementServiceClient<Channel>,
}

impl KmsClient {
    /// A client of the plugin at `endpoint`, `unix:///absolute/path` (or
    /// `unix:///@name`, a Linux abstract socket), as in an
    /// `EncryptionConfiguration`. `timeout` bounds each call, the dialling
    /// included (the API server's default is 3 s). Returns at once; async
    /// only because the connection's worker task needs a Tokio runtime.
    pub async fn connect(endpoint: &str, timeout: Duration) -> Result<Self> {
        let socket = parse_endpoint(endpoint)?;
        // The authority the API server uses; the URI is never resolved.
        let channel = Endpoint::from_static("http://localhost")
            .connect_timeout(timeout)
            .connect_with_connector_lazy(tower::service_fn(move |_: Uri| {
                let socket = socket.clone();
                async move { socket.connect().await.map(TokioIo::new) }
            }));
        Ok(Self {
            endpoint: endpoint.to_owned(),
            timeout,
            client: KeyManagementServiceClient::new(channel),
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The plugin's Status, held to the API server's rules: healthz other
    /// than `ok` is [`Error::Unhealthy`], a bad version or key_id
    /// [`Error::InvalidResponse`].
    pub async fn status(&self) -> Result<Status> {
        let mut client = self.client.clone();
        let request = self.request(v2::StatusRequest {});
        let response = self.call(Method::Status, client.status(request)).await?;
        validate::status(response)
    }

    /// Encrypts `plaintext` with the plugin's current key. The plugin is
    /// meant for small plaintexts (the API server sends 32 bytes).
    ///
    /// The copies tonic makes to send it (the request, the HTTP/2 buffers)
    /// are not wiped: meant for DEKs, not for long-lived secrets.
    pub async fn encrypt(&self, plaintext: &[u8]) -> Result<Wrapped> {
        let mut client = self.client.clone();
        let request = self.request(v2::EncryptRequest {
            plaintext: plaintext.to_vec(),
            uid: uid()?,
        });
        let response = self.call(Method::Encrypt, client.encrypt(request)).await?;
        validate::encrypt_response(response).map_err(|problem| Error::InvalidResponse {
            method: Method::Encrypt,
            problem,
        })
    }

    /// Decrypts what [`encrypt`](Self::encrypt) returned (with any key the
    /// plugin still has, not only the current one). The result is wiped on
    /// drop; tonic's receive buffers are not.
    pub async fn decrypt(&self, wrapped: &Wrapped) -> Result<Zeroizing<Vec<u8>>> {
        let mut client = self.client.clone();
        let request = self.request(v2::DecryptRequest {
            ciphertext: wrapped.ciphertext.clone(),
            uid: uid()?,
            key_id: wrapped.key_id.clone(),
            annotations: wrapped.annotations.clone(),
        });
        let response = self.call(Method::Decrypt, client.decrypt(request)).await?;
        Ok(Zeroizing::new(response.plaintext))
    }

    /// A request carrying the deadline (`grpc-timeout`), as Go clients send.
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.timeout);
        request
    }

    /// One call, bounded by the timeout, its failure classified.
    async fn call<T>(
        &self,
        method: Method,
        call: impl Future<Output = std::result::Result<tonic::Response<T>, tonic::Status>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.timeout, call).await {
            Err(_elapsed) => Err(Error::TimedOut {
                method,
                timeout: self.timeout,
            }),
            Ok(Ok(response)) => Ok(response.into_inner()),
            Ok(Err(status)) => Err(classify(method, self.timeout, &status)),
        }
    }
}

/// A failed call: the connection's failures and the codes that mean "not
/// now" are [`Error::Unreachable`] (or [`Error::TimedOut`]); any other code
/// is the plugin's refusal.
fn classify(method: Method, timeout: Duration, status: &tonic::Status) -> Error {
    use tonic::Code;
    let message = cut(status.message(), MESSAGE_SHOWN);
    // A status made here, not by the plugin, has the local error as source
    // (tonic's message repeats the innermost cause, or says only
    // "transport error").
    let source = std::error::Error::source(status);
    let with_source = || match source {
        Some(source) => match cut(&source_chain(source), MESSAGE_SHOWN) {
            chain if chain.contains(&message) => chain,
            chain => format!("{message}: {chain}"),
        },
        None => message.clone(),
    };
    let mut transport = false;
    let mut next = source;
    while let Some(e) = next {
        // tonic's own deadline (the `grpc-timeout` it sends), which it
        // reports as Cancelled.
        if e.is::<tonic::TimeoutExpired>() {
            return Error::TimedOut { method, timeout };
        }
        transport |= e.is::<tonic::transport::Error>() || e.is::<tonic::ConnectError>();
        next = e.source();
    }
    match status.code() {
        // The plugin's deadline.
        Code::DeadlineExceeded => Error::TimedOut { method, timeout },
        // No socket, connection refused or lost (whatever code tonic gave
        // it); the plugin shutting down.
        Code::Unavailable | Code::Cancelled => Error::Unreachable {
            method,
            reason: with_source(),
        },
        _ if transport => Error::Unreachable {
            method,
            reason: with_source(),
        },
        code => Error::Refused {
            method,
            code,
            message: with_source(),
        },
    }
}

/// An error's sources, innermost last (tonic wraps hyper wraps io).
fn source_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        let part = e.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        next = e.source();
    }
    text
}

/// A fresh request id: a random (version 4) UUID.
fn uid() -> Result<String> {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| Error::Crypto("no randomness for a request uid"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// Where the plugin listens.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Socket {
    Path(PathBuf),
    /// A Linux abstract socket name (without the `@`).
    Abstract(String),
}

impl Socket {
    async fn connect(&self) -> std::io::Result<tokio::net::UnixStream> {
        match self {
            Socket::Path(path) => tokio::net::UnixStream::connect(path).await,
            Socket::Abstract(name) => connect_abstract(name),
        }
    }
}

#[cfg(target_os = "linux")]
fn connect_abstract(name: &str) -> std::io::Result<tokio::net::UnixStream> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixStream};
    // A unix connect does not wait for the peer to accept: blocking is brief.
    let stream = UnixStream::connect_addr(&SocketAddr::from_abstract_name(name.as_bytes())?)?;
    stream.set_nonblocking(true)?;
    tokio::net::UnixStream::from_std(stream)
}

#[cfg(not(target_os = "linux"))]
fn connect_abstract(_name: &str) -> std::io::Result<tokio::net::UnixStream> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "abstract unix sockets exist only on Linux",
    ))
}

/// k8s.io/kms `util.ParseEndpoint`: the scheme must be `unix`; the path is
/// the socket's, or `/@name` for an abstract socket.
fn parse_endpoint(endpoint: &str) -> Result<Socket> {
    let invalid = |reason| Error::InvalidEndpoint {
        endpoint: endpoint.to_owned(),
        reason,
    };
    let Some(rest) = endpoint.strip_prefix("unix://") else {
        return Err(invalid("the scheme must be unix (unix:///path/to/socket)"));
    };
    // unix:///path: no host. (Go's url.Parse would take a host in
    // unix://host/path and ignore it; the API server's docs demand three
    // slashes, and a host here is a typo worth reporting.)
    let Some(path) = rest.strip_prefix('/') else {
        return Err(invalid("expected unix:///absolute/path (three slashes)"));
    };
    if path.contains(['?', '#']) {
        return Err(invalid("a query or fragment is not part of a socket path"));
    }
    if let Some(name) = path.strip_prefix('@') {
        if name.is_empty() {
            return Err(invalid("the abstract socket name is empty"));
        }
        return Ok(Socket::Abstract(name.to_owned()));
    }
    if path.is_empty() {
        return Err(invalid("the socket path is empty"));
    }
    Ok(Socket::Path(PathBuf::from(format!("/{path}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_as_the_api_server_takes_them() {
        assert_eq!(
            parse_endpoint("unix:///tmp/kms.sock").unwrap(),
            Socket::Path("/tmp/kms.sock".into())
        );
        assert_eq!(
            parse_endpoint("unix:///@kms").unwrap(),
            Socket::Abstract("kms".into())
        );
        for bad in [
            "",
            "/tmp/kms.sock",
            "tcp://127.0.0.1:80",
            "unix://tmp/kms.sock",
            "unix:///",
            "unix:///@",
            "unix:///tmp/kms.sock?x=1",
            "UNIX:///tmp/kms.sock",
        ] {
            let err = parse_endpoint(bad).unwrap_err();
            assert!(
                matches!(err, Error::InvalidEndpoint { .. }),
                "{bad}: {err:?}"
            );
            assert_eq!(err.kind(), crate::ErrorKind::Local);
        }
    }

    #[test]
    fn uids_are_fresh_v4_uuids() {
        let a = uid().unwrap();
        let b = uid().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        assert_eq!(a.matches('-').count(), 4);
    }

    #[test]
    fn refusals_and_absences_are_told_apart() {
        let t = Duration::from_secs(3);
        let refused = classify(
            Method::Decrypt,
            t,
            &tonic::Status::unknown("C_Decrypt: pkcs11: 0x5: CKR_GENERAL_ERROR"),
        );
        assert!(matches!(
            &refused,
            Error::Refused { method: Method::Decrypt, code: tonic::Code::Unknown, message }
                if message.contains("CKR_GENERAL_ERROR")
        ));
        assert!(!refused.is_retryable());
        for code in [tonic::Code::Unavailable, tonic::Code::Cancelled] {
            let err = classify(Method::Status, t, &tonic::Status::new(code, "gone"));
            assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
            assert!(err.is_retryable());
        }
        let err = classify(
            Method::Encrypt,
            t,
            &tonic::Status::deadline_exceeded("late"),
        );
        assert!(matches!(err, Error::TimedOut { timeout, .. } if timeout == t));
        // tonic's own deadline comes as Cancelled, with this source.
        let status = tonic::Status::from_error(Box::new(tonic::TimeoutExpired(())));
        assert_eq!(status.code(), tonic::Code::Cancelled);
        let err = classify(Method::Encrypt, t, &status);
        assert!(matches!(err, Error::TimedOut { .. }), "{err:?}");
        let long = classify(
            Method::Encrypt,
            t,
            &tonic::Status::internal("e".repeat(100_000)),
        );
        assert!(long.to_string().len() < 700, "{long}");
    }

    #[tokio::test]
    async fn a_missing_socket_is_unreachable_and_not_permanent() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("kms.sock");
        let client = KmsClient::connect(
            &format!("unix://{}", sock.display()),
            Duration::from_secs(2),
        )
        .await
        .unwrap();
        for _ in 0..3 {
            let err = client.status().await.unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Unreachable {
                        method: Method::Status,
                        ..
                    }
                ),
                "{err:?}"
            );
            assert!(err.is_retryable());
        }
        let err = client
            .encrypt(b"0123456789abcdef0123456789abcdef")
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Unreachable {
                    method: Method::Encrypt,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(!err.to_string().contains("0123456789abcdef"), "{err}");
    }

    #[tokio::test]
    async fn a_plugin_that_never_answers_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("kms.sock");
        // Accepts connections and says nothing (not even the HTTP/2 preface).
        let listener = tokio::net::UnixListener::bind(&sock).unwrap();
        let held = tokio::spawn(async move {
            let mut streams = Vec::new();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                streams.push(stream);
            }
        });
        let timeout = Duration::from_millis(300);
        let client = KmsClient::connect(&format!("unix://{}", sock.display()), timeout)
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let err = client.status().await.unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(err, Error::TimedOut { method: Method::Status, timeout: t } if t == timeout),
            "{err:?}"
        );
        assert!(err.is_retryable());
        assert!(took >= timeout && took < timeout * 4, "took {took:?}");
        held.abort();
    }
}
