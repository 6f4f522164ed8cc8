//! The sealed-secrets controller: key registry, SealedSecret reconciler,
//! HTTP API and metrics.

pub mod args;
mod cluster_state;
mod config;
mod drift;
mod error;
mod events;
pub mod http;
mod keys;
mod leader;
pub mod metrics;
mod own_writes;
mod plan;
mod pool;
mod ratelimit;
mod reconcile;
mod resync;
mod retry;
mod secret_index;
mod serve;
pub mod telemetry;
mod watches;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use futures::{FutureExt as _, StreamExt as _};
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::{reflector, watcher, Controller, WatchStreamExt as _};
use kube::{Api, Client};
use sealed_secrets_api::SealedSecret;
use tokio::signal::unix::{signal, SignalKind};

pub use args::Args;
pub use error::Error;

use crate::config::Config;
use crate::keys::KeyRegistry;
use crate::leader::{identity, Elector, Leadership};
use crate::metrics::Metrics;
use crate::reconcile::Context;
use crate::resync::{Reason, Resync};
use crate::secret_index::SecretIndex;
use crate::watches::{
    forget_gone, keep_what_reconcile_reads, list_config, restarted_every, sealed_secret_triggers,
    sealed_secrets_for, secret_list_config, secret_triggers,
};

/// `POD_NAMESPACE`, else the service account's namespace, else `default`.
pub fn my_namespace() -> String {
    if let Ok(ns) = std::env::var("POD_NAMESPACE") {
        if !ns.is_empty() {
            return ns;
        }
    }
    std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        .ok()
        .map(|ns| ns.trim().to_string())
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

pub async fn run(args: Args) -> Result<()> {
    let config = Config::new(args, my_namespace())?;
    let Config {
        namespace,
        http_addr,
        metrics_addr,
        keys: key_config,
        key_cutoff: cutoff,
        lease,
        watched,
        timeouts,
        flags: args,
    } = config;

    let client = Client::try_default()
        .await
        .context("cannot configure the Kubernetes client: run in a pod, or set KUBECONFIG")?;
    let metrics = Arc::new(Metrics::new(args.metrics_omit_secret_labels));
    let registry = Arc::new(KeyRegistry::new(client.clone(), key_config));
    let shutdown = shutdown_signal().shared();
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
    let prepared_at_once = attempt(PREPARE, prepare_keys())
        .await
        .context("cannot prepare the sealing keys")?;
    let ready = Arc::new(AtomicBool::new(false));
    let api_state = http::ApiState {
        keys: registry.clone(),
        metrics: metrics.clone(),
        ready: ready.clone(),
        limiter: Arc::new(ratelimit::RateLimiter::new(
            args.rate_limit,
            args.rate_limit_burst,
        )),
        pool: pool::RsaPool::per_cpu(),
        bodies: pool::BodyBudget::new(http::BODY_BUDGET_BYTES),
        accept_v1_data: args.accept_v1_data,
        web_ui: args.web_ui,
    };
    let http_listener = tokio::net::TcpListener::bind(http_addr)
        .await
        .with_context(|| format!("cannot listen on {http_addr} (--listen-addr)"))?;
    let metrics_listener = tokio::net::TcpListener::bind(metrics_addr)
        .await
        .with_context(|| format!("cannot listen on {metrics_addr} (--listen-metrics-addr)"))?;
    tracing::info!(%http_addr, %metrics_addr, namespace = %namespace, "serving");
    // While the keys wait for the API server, /healthz answers (a liveness
    // probe must not restart a controller that only waits) and /readyz does not.
    let http_server = tokio::spawn(serve::serve(
        http_listener,
        http::router(api_state),
        timeouts,
        shutdown.clone(),
    ));
    let metrics_server = tokio::spawn(serve::serve(
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

    if !prepared_at_once {
        let prepared = until_api_answers(PREPARE, shutdown.clone(), prepare_keys);
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
    let mut usr1 = signal(SignalKind::user_defined1()).context("cannot listen for SIGUSR1")?;
    let usr1_leadership = leadership.clone();
    let usr1_client = client.clone();
    tokio::spawn(async move {
        while usr1.recv().await.is_some() {
            match &lease {
                Some(lease) if !usr1_leadership.is_leader() => {
                    tracing::info!("SIGUSR1: a new sealing key was requested; asking the leader");
                    if let Err(e) = leader::request_new_key(usr1_client.clone(), lease).await {
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

    let scopes: Vec<(Option<String>, Arc<SecretIndex>)> = watched
        .into_iter()
        .map(|scope| (scope.clone(), Arc::new(SecretIndex::new(scope))))
        .collect();
    let mut secrets = secret_index::SecretIndexes::default();
    if !args.skip_recreate {
        for (_, index) in &scopes {
            secrets.push(index.clone());
        }
    }
    let ctx = Context::new(
        client.clone(),
        registry.clone(),
        metrics.clone(),
        events::EventRecorder::new(
            client.clone(),
            std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()),
        ),
        reconcile::Settings {
            update_status: args.update_status,
            kstatus_conditions: args.kstatus_conditions,
            revert_drift: args.revert_drift,
            accept_v1_data: args.accept_v1_data,
            retries: retry::Retries::new(args.max_unseal_retries, args.unseal_retry_period),
            leadership: leadership.clone(),
            secrets,
        },
    );
    let resync = ctx.resync.clone();
    let ctx = Arc::new(ctx);

    let mut controllers = Vec::new();
    let mut stores = Vec::new();
    let mut probe_api: Option<Api<SealedSecret>> = None;
    for (scope, secret_index) in scopes {
        let (sealed_api, secret_api): (Api<SealedSecret>, Api<PartialObjectMeta<Secret>>) =
            match &scope {
                None => (Api::all(client.clone()), Api::all(client.clone())),
                Some(ns) => (
                    Api::namespaced(client.clone(), ns),
                    Api::namespaced(client.clone(), ns),
                ),
            };
        let mut config = list_config();
        if !args.label_selector.is_empty() {
            config = config.labels(&args.label_selector);
        }
        if probe_api.is_none() {
            probe_api = Some(sealed_api.clone());
        }
        let (reader, writer) = reflector::store();
        let forget_ctx = ctx.clone();
        let gone = forget_gone(
            metrics.clone(),
            ctx.own_writes.clone(),
            scope.clone(),
            move |uid| forget_ctx.forget(uid),
        );
        let sealed_secrets = futures::StreamExt::inspect(
            watcher::watcher(sealed_api, config)
                .modify(keep_what_reconcile_reads)
                // Without it, a watch that fails (API server away) is retried in a hot loop.
                .default_backoff(),
            gone,
        )
        .reflect(writer)
        .filter_map(sealed_secret_triggers(resync.clone()));
        let mut controller = Controller::for_stream(sealed_secrets, reader).with_config(
            kube::runtime::controller::Config::default().concurrency(reconcile_concurrency()),
        );
        if !args.skip_recreate {
            // Metadata only, and no cache but the index of names: the
            // controller never holds other Secrets' data in memory. Started
            // afresh every resync period: its list finds deletes it missed.
            let secrets = restarted_every(args.resync_period, move || {
                let index = secret_index.clone();
                futures::StreamExt::inspect(
                    watcher::watcher(secret_api.clone(), secret_list_config()).default_backoff(),
                    move |event| index.observe(event),
                )
            })
            .filter_map(secret_triggers(resync.clone()));
            controller = controller.watches_stream(secrets, sealed_secrets_for);
        }
        stores.push(controller.store());
        let ctx = ctx.clone();
        let shutdown = shutdown.clone();
        controllers.push(
            controller
                .reconcile_all_on(resync.stream())
                .graceful_shutdown_on(shutdown)
                .run(reconcile::reconcile, reconcile::error_policy, ctx)
                .for_each(|result| async move {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "reconcile event");
                    }
                })
                .boxed(),
        );
    }

    metrics.observe_state(
        Arc::new(cluster_state::WatchedState {
            registry: registry.clone(),
            stores: stores.clone(),
        }),
        args.update_status,
    );
    metrics.key_schedule(args.key_renew_period, cutoff);
    spawn_resync_triggers(
        &resync,
        &registry,
        &leadership,
        args.resync_period,
        probe_api,
    );
    // What is kept per SealedSecret goes with those no watch lists any more.
    let live = stores.clone();
    let sweep_ctx = ctx.clone();
    tokio::spawn(resync.stream().for_each(move |()| {
        let uids = live
            .iter()
            .flat_map(|store| store.state())
            .filter_map(|sealed| sealed.metadata.uid.clone())
            .collect();
        sweep_ctx.forget_all_but(&uids);
        futures::future::ready(())
    }));

    let readiness = async move {
        for store in stores {
            // kube-runtime keeps one waker per store, and the controller's own
            // runner waits on it too; re-poll so this waiter cannot be starved.
            loop {
                match tokio::time::timeout(
                    std::time::Duration::from_millis(200),
                    store.wait_until_ready(),
                )
                .await
                {
                    Ok(Ok(())) => break,
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "watch store closed before it synced");
                        return;
                    }
                    Err(_elapsed) => continue,
                }
            }
        }
        tracing::info!("watches synced");
        // Ready = can serve: synced and holding a key (a replica that does
        // not lead waits for the leader's first key).
        let mut keys = registry.subscribe();
        loop {
            let can_serve = !registry.current().is_empty();
            if can_serve != ready.swap(can_serve, Ordering::Relaxed) && can_serve {
                tracing::info!("ready");
            }
            if keys.changed().await.is_err() {
                return;
            }
        }
    };
    tokio::spawn(readiness);

    // kube-runtime's reconcilers wait for their store's first list before
    // they stop: stopped during it (the API server slow or away at start),
    // they would hold the process until the Pod is killed.
    let reconcilers = futures::future::join_all(controllers);
    let stopped = async {
        tokio::select! {
            _ = reconcilers => {}
            () = async {
                shutdown.clone().await;
                tokio::time::sleep(RECONCILERS_STOP_GRACE).await;
            } => tracing::warn!(grace = ?RECONCILERS_STOP_GRACE, "reconcilers still waiting for their first list: stopping without them"),
        }
    };
    let (served, (), ()) = tokio::join!(servers, stopped, elector);
    served?;
    tracing::info!("shut down");
    Ok(())
}

/// How long the reconcilers may take to stop after SIGTERM.
const RECONCILERS_STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Everything is reconciled again on a new key, on becoming leader (or the
/// write gate reopening), when the API server answers again after it was
/// away, and at least every `period`; relists request it from the watches.
fn spawn_resync_triggers(
    resync: &Arc<Resync>,
    registry: &Arc<KeyRegistry>,
    leadership: &Arc<Leadership>,
    period: std::time::Duration,
    probe_api: Option<Api<SealedSecret>>,
) {
    let mut keys = registry.subscribe();
    let on_key = resync.clone();
    tokio::spawn(async move {
        while keys.changed().await.is_ok() {
            on_key.request(Reason::NewKey);
        }
    });
    // A new leader reconciles everything the others only watched.
    let mut leading = leadership.subscribe();
    let on_lead = resync.clone();
    tokio::spawn(async move {
        while leading.changed().await.is_ok() {
            if *leading.borrow_and_update() {
                on_lead.request(Reason::Leadership);
            }
        }
    });
    tokio::spawn(resync.clone().every(period));
    if let Some(api) = probe_api {
        // A quorum read: it needs etcd as well as the API server.
        let probe = move || {
            let api = api.clone();
            async move {
                api.list_metadata(&kube::api::ListParams::default().limit(1))
                    .await
                    .is_ok()
            }
        };
        tokio::spawn(
            resync
                .clone()
                .when_api_back(std::time::Duration::from_secs(5), probe),
        );
    }
}

/// One bounded attempt at `what`: whether it succeeded, or failed because
/// the API server is away (unreachable, timing out, 5xx, 429; logged); any
/// other error (RBAC, say) is returned.
async fn attempt(
    what: &str,
    attempt: impl std::future::Future<Output = Result<(), Error>>,
) -> Result<bool, Error> {
    // A stopped API server holds a request open for minutes (the client's
    // read timeout).
    match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt).await {
        Ok(Ok(())) => Ok(true),
        Ok(Err(e)) if e.api_away() => {
            tracing::warn!(error = %e, "cannot {what}: the API server is not answering; not ready until it does");
            Ok(false)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => {
            tracing::warn!(timeout = ?ATTEMPT_TIMEOUT, "cannot {what}: the API server did not answer in time; not ready until it does");
            Ok(false)
        }
    }
}

/// After a first [`attempt`] failed for want of the API server: tries again
/// after 1 s, 2 s, ... up to 30 s until it succeeds. `None`: shut down while
/// waiting.
async fn until_api_answers<F, Fut>(
    what: &str,
    shutdown: impl std::future::Future<Output = ()>,
    mut next: F,
) -> Result<Option<()>, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    tokio::pin!(shutdown);
    let mut wait = std::time::Duration::from_secs(1);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(None),
            () = tokio::time::sleep(wait) => {}
        }
        if attempt(what, next()).await? {
            return Ok(Some(()));
        }
        wait = (wait * 2).min(std::time::Duration::from_secs(30));
    }
}

/// Loading the keys, or making the first (RSA generation included).
const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// How many SealedSecrets are reconciled at once. Most of a reconcile is
/// waiting for the API server (a read, the Secret, an Event, the status);
/// the RSA work has its own pool of one thread per core. Three per core keep
/// that pool busy while the others wait; more are no faster on a cold start
/// (the cores are busy) and each holds a connection to the API server and
/// its buffers (docs/benchmarks.md, "Controller at scale").
fn reconcile_concurrency() -> u16 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u16::try_from((cores * 3).clamp(4, 48)).unwrap_or(48)
}

async fn shutdown_signal() {
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
