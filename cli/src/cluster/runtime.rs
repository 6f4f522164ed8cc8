//! The async runtime of the cluster calls.

use anyhow::{Context as _, Result};

/// Runs one cluster call on a small single-threaded runtime: the CLI needs
/// async only to talk to the API server.
pub(crate) fn block_on<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(future)
}
