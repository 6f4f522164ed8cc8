//! The signals the controller answers: SIGTERM (and Ctrl-C) stop it,
//! SIGUSR1 asks for a new sealing key, as the reference's.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use kube::Client;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::leader::{self, Leadership, LeaseConfig};

/// Ends at SIGTERM or Ctrl-C.
pub(super) async fn shutdown() {
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = term => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    tracing::info!("shutting down");
}

/// On SIGUSR1 a new sealing key: made here when this replica leads (or
/// there is no election), else asked of the leader through the Lease.
pub(super) fn new_key_on_usr1(
    client: Client,
    lease: Option<LeaseConfig>,
    leadership: Arc<Leadership>,
    renew_now: mpsc::Sender<()>,
) -> Result<()> {
    let mut usr1 = signal(SignalKind::user_defined1()).context("cannot listen for SIGUSR1")?;
    tokio::spawn(async move {
        while usr1.recv().await.is_some() {
            match &lease {
                Some(lease) if !leadership.is_leader() => {
                    tracing::info!("SIGUSR1: a new sealing key was requested; asking the leader");
                    if let Err(e) = leader::request_new_key(client.clone(), lease).await {
                        tracing::error!(error = %e, "cannot pass the new-key request to the leader");
                    }
                }
                _ => {
                    tracing::info!("SIGUSR1: a new sealing key was requested");
                    let _ = renew_now.try_send(());
                }
            }
        }
    });
    Ok(())
}
