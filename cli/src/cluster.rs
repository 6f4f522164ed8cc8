//! kubeseal's access to the cluster, below everything that uses it (the
//! sealing modes and `admin`): the kubectl flags that say how to reach it,
//! the Kubernetes client they configure, the runtime its calls run on, the
//! controller behind the API server's service proxy, and the words for the
//! API server's refusals.

mod api_error;
mod client;
mod controller;
mod flags;
mod runtime;

pub(crate) use api_error::{api_error, Place};
pub(crate) use client::client;
pub(crate) use controller::{Controller, Verdict};
pub(crate) use flags::ClusterArgs;
pub(crate) use runtime::block_on;
