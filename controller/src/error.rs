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
    #[error("the HTTP API's worker pool is closed")]
    PoolClosed,
    #[error("an HTTP API worker failed: {0}")]
    Worker(#[from] tokio::task::JoinError),
}

impl Error {
    /// The request failed for want of the API server, not because it was refused.
    pub fn api_away(&self) -> bool {
        match self {
            Self::KeyLoad(e) | Self::KeyStore(e) => crate::resync::api_away(e),
            _ => false,
        }
    }
}
