use thiserror::Error;

/// Controller failures. Messages carry names and causes, never secret values.
#[derive(Debug, Error)]
pub enum Error {
    #[error("cannot list key Secrets: {0}")]
    KeyLoad(#[source] kube::Error),
    #[error("cannot store the new key Secret: {0}")]
    KeyStore(#[source] kube::Error),
    #[error("cannot generate a key: {0}")]
    KeyGeneration(String),
    #[error("SealedSecret has no namespace")]
    NoNamespace,
    #[error("the RSA worker pool is closed")]
    PoolClosed,
    #[error("an RSA worker failed: {0}")]
    Worker(#[from] tokio::task::JoinError),
}

impl Error {
    /// The request failed for want of the API server, not because it was refused.
    pub fn api_away(&self) -> bool {
        match self {
            Self::KeyLoad(e) | Self::KeyStore(e) => api_away(e),
            _ => false,
        }
    }
}

/// Whether a failed request says the API server was away (unreachable,
/// timed out, overloaded, failing), as opposed to refusing this request.
pub(crate) fn api_away(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code >= 500 || status.code == 429,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_absent_or_failing_api_server_counts_as_away() {
        let status = |code: u16| {
            kube::Error::Api(
                kube::core::Status::failure("m", "r")
                    .with_code(code)
                    .boxed(),
            )
        };
        assert!(api_away(&status(500)));
        assert!(api_away(&status(503)));
        assert!(api_away(&status(429)));
        assert!(!api_away(&status(403)));
        assert!(!api_away(&status(409)));
        assert!(!api_away(&status(422)));
    }
}
