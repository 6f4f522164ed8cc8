//! One kube-runtime `Controller` per watched scope (every namespace, or each
//! named one): the SealedSecret watch with its trimmed cache, the metadata
//! watch of Secrets, and the reconciler they feed.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt as _, StreamExt as _};
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, Controller, WatchStreamExt as _};
use kube::{Api, Client};
use sealed_secrets_api::SealedSecret;

use crate::args::Args;
use crate::reconcile::secret_index::SecretIndex;
use crate::reconcile::{self, Context};
use crate::watches::{
    forget_gone, keep_what_reconcile_reads, list_config, restarted_every, sealed_secret_triggers,
    sealed_secrets_for, secret_list_config, secret_triggers,
};

/// How long the reconcilers may take to stop after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(5);

pub(super) struct Reconcilers {
    runs: Vec<BoxFuture<'static, ()>>,
    /// The SealedSecret caches, one per scope.
    pub stores: Vec<Store<SealedSecret>>,
    /// Where to ask whether the API server answers again.
    pub probe_api: Option<Api<SealedSecret>>,
}

pub(super) fn start(
    client: &Client,
    args: &Args,
    scopes: Vec<(Option<String>, Arc<SecretIndex>)>,
    ctx: &Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Clone + Send + Sync + 'static,
) -> Reconcilers {
    let mut reconcilers = Reconcilers {
        runs: Vec::new(),
        stores: Vec::new(),
        probe_api: None,
    };
    let resync = ctx.resync.clone();
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
        if reconcilers.probe_api.is_none() {
            reconcilers.probe_api = Some(sealed_api.clone());
        }
        let (reader, writer) = reflector::store();
        let forget_ctx = ctx.clone();
        let gone = forget_gone(
            ctx.metrics.clone(),
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
        reconcilers.stores.push(controller.store());
        reconcilers.runs.push(
            controller
                .reconcile_all_on(resync.stream())
                .graceful_shutdown_on(shutdown.clone())
                .run(reconcile::reconcile, reconcile::error_policy, ctx.clone())
                .for_each(|result| async move {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "reconcile event");
                    }
                })
                .boxed(),
        );
    }
    reconcilers
}

impl Reconcilers {
    /// Ends when the reconcilers have stopped after `shutdown`.
    pub async fn stopped(self, shutdown: impl std::future::Future<Output = ()>) {
        // kube-runtime's reconcilers wait for their store's first list before
        // they stop: stopped during it (the API server slow or away at start),
        // they would hold the process until the Pod is killed.
        tokio::select! {
            _ = futures::future::join_all(self.runs) => {}
            () = async {
                shutdown.await;
                tokio::time::sleep(STOP_GRACE).await;
            } => tracing::warn!(grace = ?STOP_GRACE, "reconcilers still waiting for their first list: stopping without them"),
        }
    }
}

/// At each resync, what is kept per SealedSecret goes with those no watch
/// lists any more.
pub(super) fn forget_on_resync(ctx: &Arc<Context>, stores: Vec<Store<SealedSecret>>) {
    let sweep = ctx.clone();
    tokio::spawn(ctx.resync.stream().for_each(move |()| {
        let uids: HashSet<String> = stores
            .iter()
            .flat_map(|store| store.state())
            .filter_map(|sealed| sealed.metadata.uid.clone())
            .collect();
        sweep.forget_all_but(&uids);
        futures::future::ready(())
    }));
}

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
