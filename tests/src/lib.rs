//! Support code for the end-to-end tests.
//!
//! The tests run against a real local control plane (etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler) and a real node (containerd,
//! kubelet) started by `scripts/control-plane up`; see `docs/control-plane.md`.
//!
//! ```no_run
//! use sealed_secrets_e2e::{ControlPlane, TestNamespace};
//!
//! let cp = ControlPlane::shared().expect("control plane");
//! let ns = TestNamespace::create(cp, "example").expect("namespace");
//! ns.kubectl()
//!     .run(["create", "configmap", "c", "--from-literal=k=v"])
//!     .expect("create configmap");
//! ```
//!
//! A controller for a test: [`controller::ControllerOptions`]; `kubeseal`:
//! [`kubeseal`]; what the controller made: [`secrets`], [`status`].

pub mod audit;
pub mod binaries;
pub mod browser;
pub mod cold_start;
pub mod control_plane;
pub mod controller;
pub mod crd;
pub mod etcd;
pub mod flux;
pub mod helm;
pub mod http;
pub mod kms;
pub mod kubeconfig;
pub mod kubeseal;
pub mod namespace;
pub mod pod;
mod ports;
pub mod secrets;
pub mod status;

pub use control_plane::{poll, ControlPlane, Error, Kubectl, NodeProcess};
pub use namespace::{unique_name, TestNamespace};
