//! The sealed-secrets controller: key registry, SealedSecret reconciler,
//! HTTP API and metrics. `docs/architecture.md` maps the modules; [`run`]
//! (in `app`) is where they are put together.

mod app;
pub mod args;
mod config;
mod error;
pub mod http;
mod keys;
mod leader;
pub mod metrics;
mod reason;
mod reconcile;
mod rsa_pool;
pub mod telemetry;
mod watches;

pub use app::run;
pub use args::Args;
pub use error::Error;
