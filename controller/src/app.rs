//! The composition root: from the flags to a running controller. The order
//! is the reference's: the keys first (nothing serves before they are
//! loaded), then the HTTP API and metrics, leader election, the watches and
//! reconcilers, and readiness once the watches have synced.

mod cluster_state;
mod readiness;
mod reconcilers;
mod resync_triggers;
mod signals;
mod startup;

use std::sync::Arc;

use anyhow::{Context as _, Result};
use futures::FutureExt as _;
use kube::Client;

use crate::args::Args;
use crate::config::{pod_namespace, Config};
use crate::http::body_budget::BodyBudget;
use crate::http::ratelimit::RateLimiter;
use crate::http::serve::serve;
use crate::http::Readiness;
use crate::keys::{self, Custody, KeyRegistry};
use crate::leader::{identity, Elector, Leadership};
use crate::metrics::Metrics;
use crate::reconcile::events::EventRecorder;
use crate::reconcile::retry::Retries;
use crate::reconcile::secret_index::{SecretIndex, SecretIndexes};
use crate::reconcile::{Context, Settings};
use crate::rsa_pool::RsaPool;
use crate::{http, Error};
use sealed_secrets_kms::KmsClient;

/// Runs the controller until SIGTERM (or Ctrl-C).
pub async fn run(args: Args) -> Result<()> {
    let Config {
        namespace,
        http_addr,
        metrics_addr,
        keys: key_config,
        key_cutoff: cutoff,
        lease,
        watched,
        timeouts,
        kms,
        cluster_name,
        flags: args,
    } = Config::new(args, pod_namespace())?;

    let client = Client::try_default()
        .await
        .context("cannot configure the Kubernetes client: run in a pod, or set KUBECONFIG")?;
    let metrics = Arc::new(Metrics::new(args.metrics_omit_secret_labels));
    let custody = match &kms {
        None => Custody::Plain,
        Some(kms) => {
            tracing::info!(endpoint = %kms.endpoint, timeout = ?kms.timeout, "private keys wrapped by the KMS plugin");
            Custody::Kms(Box::new(
                KmsClient::connect(&kms.endpoint, kms.timeout)
                    .await
                    .map_err(Error::Kms)?,
            ))
        }
    };
    let registry = Arc::new(KeyRegistry::new(
        client.clone(),
        key_config,
        custody.clone(),
    ));
    let shutdown = signals::shutdown().shared();
    // As the reference, nothing serves before the keys are loaded (and, with
    // one replica, the first one made). But the API server may be away when
    // the controller starts (an outage): then it serves /healthz (not
    // /readyz) and waits for it, rather than exit and be restarted by its Pod
    // with a growing back-off long after the API server is back.
    let prepare_keys = || async {
        registry.load().await?;
        if lease.is_none() {
            registry.ensure_key(cutoff, || true).await?;
        }
        Ok::<(), Error>(())
    };
    const PREPARE: &str = "prepare the sealing keys";
    let ready = Arc::new(Readiness::new("loading the sealing keys"));
    let prepared_at_once = startup::attempt(PREPARE, prepare_keys(), &ready)
        .await
        .context("cannot prepare the sealing keys")?;

    let api_state = http::ApiState {
        keys: registry.clone(),
        metrics: metrics.clone(),
        ready: ready.clone(),
        limiter: Arc::new(RateLimiter::new(args.rate_limit, args.rate_limit_burst)),
        pool: RsaPool::per_cpu(),
        bodies: BodyBudget::new(http::BODY_BUDGET_BYTES),
        accept_v1_data: args.accept_v1_data,
        web_ui: args.web_ui,
        cluster_name,
    };
    let http_listener = bind(http_addr, "--listen-addr").await?;
    let metrics_listener = bind(metrics_addr, "--listen-metrics-addr").await?;
    // While the keys wait for the API server, /healthz answers (a liveness
    // probe must not restart a controller that only waits) and /readyz does not.
    let http_server = tokio::spawn(serve(
        http_listener,
        http::router(api_state),
        timeouts,
        shutdown.clone(),
    ));
    let metrics_server = tokio::spawn(serve(
        metrics_listener,
        http::metrics_router(metrics.clone()),
        timeouts,
        shutdown.clone(),
    ));
    let servers = async move {
        http_server
            .await
            .context("HTTP server failed")?
            .context("HTTP server failed")?;
        metrics_server
            .await
            .context("metrics server failed")?
            .context("metrics server failed")
    };
    tracing::info!(%http_addr, %metrics_addr, namespace = %namespace, "serving");

    if !prepared_at_once {
        let prepared = startup::until_api_answers(PREPARE, shutdown.clone(), prepare_keys, &ready);
        if prepared
            .await
            .context("cannot prepare the sealing keys")?
            .is_none()
        {
            return servers.await;
        }
    }

    let leadership = match &lease {
        Some(lease) => Leadership::elected(lease.renew_deadline),
        None => {
            metrics.leader(&identity(), true);
            Leadership::always()
        }
    };
    let (renew_now, renew_requests) = tokio::sync::mpsc::channel(1);
    tokio::spawn(registry.clone().watch());
    tokio::spawn(registry.clone().follow_activations());
    tokio::spawn(registry.clone().renew(
        args.key_renew_period,
        renew_requests,
        leadership.clone(),
        cutoff,
    ));
    let elector = match lease.clone() {
        Some(lease) => {
            tracing::info!(lease = %lease.name, namespace = %lease.namespace, identity = %lease.identity, "leader election on");
            Elector::new(
                client.clone(),
                lease,
                leadership.clone(),
                metrics.clone(),
                renew_now.clone(),
            )
            .run(shutdown.clone())
            .boxed()
        }
        None => futures::future::ready(()).boxed(),
    };
    if kms.is_some() {
        metrics.kms();
        let health = metrics.clone();
        tokio::spawn(keys::follow_kek(
            registry.clone(),
            leadership.clone(),
            args.kms_status_period
                .max(std::time::Duration::from_secs(1)),
            move |healthy| health.kms_healthy(healthy),
        ));
    }
    signals::new_key_on_usr1(client.clone(), lease, leadership.clone(), renew_now)?;

    let scopes: Vec<(Option<String>, Arc<SecretIndex>)> = watched
        .into_iter()
        .map(|scope| (scope.clone(), Arc::new(SecretIndex::new(scope))))
        .collect();
    let mut secrets = SecretIndexes::default();
    if !args.skip_recreate {
        for (_, index) in &scopes {
            secrets.push(index.clone());
        }
    }
    let ctx = Arc::new(Context::new(
        client.clone(),
        registry.clone(),
        metrics.clone(),
        EventRecorder::new(
            client.clone(),
            std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()),
        ),
        Settings {
            update_status: args.update_status,
            kstatus_conditions: args.kstatus_conditions,
            revert_drift: args.revert_drift,
            accept_v1_data: args.accept_v1_data,
            retries: Retries::new(args.max_unseal_retries, args.unseal_retry_period),
            leadership: leadership.clone(),
            secrets,
        },
    ));
    let reconcilers = reconcilers::start(&client, &args, scopes, &ctx, shutdown.clone());

    metrics.observe_state(
        Arc::new(cluster_state::WatchedState {
            registry: registry.clone(),
            stores: reconcilers.stores.clone(),
        }),
        args.update_status,
    );
    metrics.key_schedule(args.key_renew_period, cutoff);
    resync_triggers::spawn(
        &ctx.resync,
        &registry,
        &leadership,
        args.resync_period,
        reconcilers.probe_api.clone(),
    );
    reconcilers::forget_on_resync(&ctx, reconcilers.stores.clone());
    tokio::spawn(readiness::watch(
        reconcilers.stores.clone(),
        registry.clone(),
        ready,
    ));

    let (served, (), ()) = tokio::join!(servers, reconcilers.stopped(shutdown.clone()), elector);
    served?;
    tracing::info!("shut down");
    Ok(())
}

async fn bind(addr: std::net::SocketAddr, flag: &str) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ({flag})"))
}
