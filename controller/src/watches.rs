//! What the watches feed the reconciler: the trimmed SealedSecret cache, the
//! SealedSecrets a Secret's event concerns, and the bookkeeping that follows
//! deletes and re-lists.

use std::collections::{BTreeMap, HashSet};
use std::future::{ready, Ready};
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt as _};

use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::ResourceExt as _;
use sealed_secrets_api::SealedSecret;

use crate::metrics::Metrics;
use crate::reconcile::drift::REVERT_DRIFT_ANNOTATION;
use crate::reconcile::own_writes::OwnWrites;
use crate::reconcile::resync::{Reason, Resync};
use crate::reconcile::INSTANCE_LABEL;

type WatchEvent<K> = Result<watcher::Event<K>, watcher::Error>;
/// The object to reconcile for (`Ok`), if any.
type Trigger<K> = Option<Result<K, watcher::Error>>;

/// The SealedSecrets to reconcile for each event of their watch, which has
/// already been applied to the cache: each change; and everything once a list
/// (the first, or a relist after the watch expired) is complete, because only
/// then does the cache hold it. Reconciling each listed page as it comes
/// would read the cache from before the list: one created in the gap is not
/// there yet, one changed in the gap looks unchanged.
pub fn sealed_secret_triggers(
    resync: Arc<Resync>,
) -> impl FnMut(WatchEvent<SealedSecret>) -> Ready<Trigger<SealedSecret>> {
    move |event| {
        ready(match event {
            Ok(watcher::Event::Apply(changed)) => Some(Ok(changed)),
            Ok(watcher::Event::InitDone) => {
                resync.request(Reason::SealedSecretsListed);
                None
            }
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
    }
}

/// The Secrets whose events concern SealedSecrets ([`sealed_secrets_for`]):
/// each change and delete; and after a relist, everything, since deletes in
/// the gap are known only as names missing from the list, and the index
/// keeps no names. The first list needs nothing: the SealedSecrets' own first
/// list reconciles them all.
pub fn secret_triggers(
    resync: Arc<Resync>,
) -> impl FnMut(WatchEvent<PartialObjectMeta<Secret>>) -> Ready<Trigger<PartialObjectMeta<Secret>>>
{
    let mut listed_before = false;
    move |event| {
        ready(match event {
            Ok(watcher::Event::Apply(secret) | watcher::Event::Delete(secret)) => Some(Ok(secret)),
            Ok(watcher::Event::InitDone) => {
                if std::mem::replace(&mut listed_before, true) {
                    resync.request(Reason::SecretsListed);
                }
                None
            }
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
    }
}

/// A watch started afresh every `period` (never when zero): each start lists
/// everything, which corrects whatever the previous one got wrong.
pub fn restarted_every<S: Stream>(
    period: Duration,
    mut start: impl FnMut() -> S,
) -> impl Stream<Item = S::Item> {
    futures::stream::repeat_with(move || {
        let until = async move {
            if period.is_zero() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(period).await;
        };
        start().take_until(Box::pin(until))
    })
    .flatten()
}

/// Drops the `condition_info` series of SealedSecrets that go away: deleted,
/// no longer matching `--label-selector`, or missing from a relist (deleted
/// while the watch was down); and what the reconciler keeps about a deleted
/// one (`forget_object`, by uid; a relist's deletes are swept in lib.rs).
pub fn forget_gone(
    metrics: Arc<Metrics>,
    own_writes: Arc<OwnWrites>,
    scope: Option<String>,
    forget_object: impl Fn(&str),
) -> impl FnMut(&Result<watcher::Event<SealedSecret>, watcher::Error>) {
    let key = |s: &SealedSecret| (s.namespace().unwrap_or_default(), s.name_any());
    let mut listed: Option<HashSet<(String, String)>> = None;
    move |event| match event {
        Ok(watcher::Event::Delete(gone)) => {
            let (namespace, name) = key(gone);
            metrics.forget(&namespace, &name);
            if let Some(uid) = gone.uid() {
                forget_object(&uid);
            }
        }
        Ok(watcher::Event::Init) => {
            metrics.relist();
            own_writes.forget_all();
            listed = Some(HashSet::new());
        }
        Ok(watcher::Event::InitApply(present)) => {
            if let Some(listed) = listed.as_mut() {
                listed.insert(key(present));
            }
        }
        Ok(watcher::Event::InitDone) => {
            if let Some(listed) = listed.take() {
                metrics.retain(scope.as_deref(), &listed);
            }
        }
        _ => {}
    }
}

/// The SealedSecrets a change to a Secret concerns: those that own it (it
/// was deleted or changed behind the controller's back), and the one of the
/// same name, which an unmanaged Secret blocks until it is deleted or
/// annotated `managed`.
pub fn sealed_secrets_for(secret: PartialObjectMeta<Secret>) -> Vec<ObjectRef<SealedSecret>> {
    let Some(namespace) = secret.metadata.namespace.as_deref() else {
        return Vec::new();
    };
    let mut refs: Vec<ObjectRef<SealedSecret>> = secret
        .metadata
        .owner_references
        .iter()
        .flatten()
        .filter(|o| {
            o.kind == sealed_secrets_api::KIND && o.api_version == sealed_secrets_api::API_VERSION
        })
        .map(|o| ObjectRef::new(&o.name).within(namespace))
        .collect();
    if let Some(name) = secret.metadata.name.as_deref() {
        let same = ObjectRef::new(name).within(namespace);
        if !refs.contains(&same) {
            refs.push(same);
        }
    }
    refs
}

/// Lists in pages, so a cold start over many objects never holds them all
/// twice (a response body and the objects parsed from it) at once.
pub fn list_config() -> watcher::Config {
    watcher::Config::default().page_size(LIST_PAGE_SIZE)
}

const LIST_PAGE_SIZE: u32 = 100;

/// The Secret watch holds names only (metadata, about 1 KiB each on the
/// wire): larger pages, fewer requests for the relist every resync period.
pub fn secret_list_config() -> watcher::Config {
    watcher::Config::default().page_size(SECRET_LIST_PAGE_SIZE)
}

const SECRET_LIST_PAGE_SIZE: u32 = 500;

/// What the cache keeps of a SealedSecret: what decides whether it needs
/// unsealing (identity, generation, status) and the instance label of its
/// `condition_info` series. The rest is read again from the API server when
/// it does need unsealing (`reconcile::sync_secret`): the encrypted values,
/// most of an object's size, the template, and the labels and annotations
/// (a status write replaces only the status: the API server keeps the rest
/// of the stored object), but the annotation that turns drift reverting off. managedFields (a JSON tree per field manager) and
/// kubectl's last-applied-configuration (a second copy of the object) are
/// never read.
pub fn keep_what_reconcile_reads(sealed: &mut SealedSecret) {
    sealed.spec = Default::default();
    let meta = &mut sealed.metadata;
    meta.managed_fields = None;
    // Only the one that says whether hand edits of its Secret are put back.
    meta.annotations = meta
        .annotations
        .take()
        .and_then(|annotations| {
            annotations
                .into_iter()
                .find(|(k, _)| k == REVERT_DRIFT_ANNOTATION)
        })
        .map(|kept| BTreeMap::from([kept]));
    meta.labels = meta
        .labels
        .take()
        .and_then(|labels| labels.into_iter().find(|(k, _)| k == INSTANCE_LABEL))
        .map(|instance| BTreeMap::from([instance]));
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, ObjectMeta};
    use sealed_secrets_api::{
        SealedSecretSpec, LAST_APPLIED_ANNOTATIONS, SCOPE_CLUSTER_WIDE_ANNOTATION,
    };

    use super::*;

    fn sealed_in(namespace: &str, name: &str) -> SealedSecret {
        let mut sealed = SealedSecret::new(name, SealedSecretSpec::default());
        sealed.metadata.namespace = Some(namespace.into());
        sealed
    }

    fn resync_count(metrics: &Metrics, reason: &str) -> usize {
        metrics
            .render()
            .lines()
            .filter(|l| l.starts_with("sealed_secrets_controller_resyncs_total{"))
            .filter(|l| l.contains(&format!("reason=\"{reason}\"")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as usize
    }

    /// A relist's pages must not be reconciled against the cache from before
    /// the list: only the complete list reconciles, everything at once.
    #[tokio::test]
    async fn a_list_reconciles_everything_once_complete_not_page_by_page() {
        let metrics = Arc::new(Metrics::default());
        let mut trigger = sealed_secret_triggers(Resync::new(metrics.clone()));
        let mut run = |event| futures::executor::block_on(trigger(Ok(event)));
        assert!(run(watcher::Event::Init).is_none());
        assert!(run(watcher::Event::InitApply(sealed_in("ns", "a"))).is_none());
        assert_eq!(resync_count(&metrics, "sealedsecrets_listed"), 0);
        assert!(run(watcher::Event::InitDone).is_none());
        assert_eq!(resync_count(&metrics, "sealedsecrets_listed"), 1);
        let changed = run(watcher::Event::Apply(sealed_in("ns", "b")));
        assert!(matches!(changed, Some(Ok(s)) if s.name_any() == "b"));
        assert!(run(watcher::Event::Delete(sealed_in("ns", "b"))).is_none());
    }

    /// A Secret deleted while the Secret watch was down shows only as a name
    /// missing from the relist: everything is reconciled once it is done.
    #[tokio::test]
    async fn a_relist_of_secrets_reconciles_everything_the_first_list_does_not() {
        let metrics = Arc::new(Metrics::default());
        let mut trigger = secret_triggers(Resync::new(metrics.clone()));
        let secret = |name: &str| PartialObjectMeta::<Secret> {
            types: None,
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                ..Default::default()
            },
            _phantom: std::marker::PhantomData,
        };
        let mut run = |event| futures::executor::block_on(trigger(Ok(event)));
        for _ in 0..2 {
            assert!(run(watcher::Event::Init).is_none());
            assert!(run(watcher::Event::InitApply(secret("a"))).is_none());
            assert!(run(watcher::Event::InitDone).is_none());
        }
        assert_eq!(
            resync_count(&metrics, "secrets_listed"),
            1,
            "the relist, not the first list"
        );
        assert!(run(watcher::Event::Apply(secret("a"))).is_some());
        assert!(run(watcher::Event::Delete(secret("a"))).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_watch_restarted_every_period_starts_afresh() {
        let starts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = starts.clone();
        let stream = restarted_every(Duration::from_secs(600), move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            futures::stream::pending::<()>()
        });
        let drained = tokio::time::timeout(Duration::from_secs(1801), stream.collect::<Vec<_>>());
        assert!(drained.await.is_err());
        assert_eq!(starts.load(std::sync::atomic::Ordering::Relaxed), 4);

        let never = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = never.clone();
        let stream = restarted_every(Duration::ZERO, move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            futures::stream::pending::<()>()
        });
        let drained = tokio::time::timeout(Duration::from_secs(1801), stream.collect::<Vec<_>>());
        assert!(drained.await.is_err());
        assert_eq!(never.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[test]
    fn condition_series_go_with_deletes_and_relists() {
        let metrics = Arc::new(Metrics::default());
        let series = |m: &Metrics| {
            m.render()
                .lines()
                .filter(|l| l.starts_with("sealed_secrets_controller_condition_info{"))
                .count()
        };
        for name in ["a", "b", "c"] {
            metrics.condition("ns", name, "", true);
        }
        metrics.condition("elsewhere", "a", "", true);
        let mut gone = forget_gone(metrics.clone(), Arc::default(), Some("ns".into()), |_| {});
        gone(&Ok(watcher::Event::Delete(sealed_in("ns", "a"))));
        assert_eq!(series(&metrics), 3);
        // A relist that holds only "b": "c" was deleted while the watch was down.
        gone(&Ok(watcher::Event::Init));
        gone(&Ok(watcher::Event::InitApply(sealed_in("ns", "b"))));
        assert_eq!(
            series(&metrics),
            3,
            "nothing goes before the list is complete"
        );
        gone(&Ok(watcher::Event::InitDone));
        let text = metrics.render();
        assert_eq!(series(&metrics), 2, "{text}");
        assert!(text.contains(r#"namespace="ns",name="b""#), "{text}");
        assert!(text.contains(r#"namespace="elsewhere",name="a""#), "{text}");
    }

    #[test]
    fn the_cache_keeps_what_decides_and_drops_the_bulk() {
        let mut sealed = SealedSecret::new(
            "db",
            SealedSecretSpec {
                encrypted_data: BTreeMap::from([("k".to_string(), "AgB...".to_string())]),
                ..SealedSecretSpec::default()
            },
        );
        sealed.metadata.namespace = Some("apps".into());
        sealed.metadata.generation = Some(3);
        sealed.metadata.managed_fields = Some(vec![ManagedFieldsEntry::default()]);
        sealed.metadata.annotations = Some(BTreeMap::from([
            (LAST_APPLIED_ANNOTATIONS[0].to_string(), "{...}".to_string()),
            (
                SCOPE_CLUSTER_WIDE_ANNOTATION.to_string(),
                "true".to_string(),
            ),
        ]));
        sealed.metadata.labels = Some(BTreeMap::from([
            ("app".to_string(), "web".to_string()),
            (INSTANCE_LABEL.to_string(), "prod".to_string()),
        ]));
        sealed.metadata.uid = Some("u".into());
        sealed.metadata.resource_version = Some("7".into());
        sealed.spec.template.type_ = Some("Opaque".into());
        sealed.spec.template.metadata = ObjectMeta {
            labels: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
            ..ObjectMeta::default()
        };
        sealed.status = Some(Default::default());

        keep_what_reconcile_reads(&mut sealed);

        assert!(sealed.spec.encrypted_data.is_empty());
        assert!(sealed.spec.data.is_none());
        assert_eq!(sealed.spec.template, Default::default());
        assert!(sealed.metadata.managed_fields.is_none());
        assert!(sealed.metadata.annotations.is_none());
        assert_eq!(
            sealed.metadata.labels,
            Some(BTreeMap::from([(
                INSTANCE_LABEL.to_string(),
                "prod".to_string()
            )]))
        );
        assert_eq!(sealed.metadata.generation, Some(3));
        assert_eq!(sealed.metadata.uid.as_deref(), Some("u"));
        assert_eq!(sealed.metadata.resource_version.as_deref(), Some("7"));
        assert_eq!(sealed.name_any(), "db");
        assert_eq!(sealed.namespace().as_deref(), Some("apps"));
        assert!(sealed.status.is_some());

        let mut unlabelled = SealedSecret::new("x", SealedSecretSpec::default());
        unlabelled.metadata.labels = Some(BTreeMap::from([("a".to_string(), "b".to_string())]));
        keep_what_reconcile_reads(&mut unlabelled);
        assert!(unlabelled.metadata.labels.is_none());
    }

    #[test]
    fn a_secret_concerns_its_owners_and_the_sealed_secret_of_its_name() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
        let owner = |kind: &str, name: &str| OwnerReference {
            api_version: sealed_secrets_api::API_VERSION.into(),
            kind: kind.into(),
            name: name.into(),
            uid: "u".into(),
            ..OwnerReference::default()
        };
        let secret = |name: &str, owners: Vec<OwnerReference>| PartialObjectMeta::<Secret> {
            types: None,
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("apps".into()),
                owner_references: Some(owners),
                ..ObjectMeta::default()
            },
            _phantom: std::marker::PhantomData,
        };
        let names = |refs: Vec<ObjectRef<SealedSecret>>| {
            refs.iter()
                .map(|r| format!("{}/{}", r.namespace.as_deref().unwrap_or("?"), r.name))
                .collect::<Vec<_>>()
        };
        // Unmanaged: no owner, yet it blocks the SealedSecret of its name.
        assert_eq!(names(sealed_secrets_for(secret("db", vec![]))), ["apps/db"]);
        // Ours: one reference, not two.
        assert_eq!(
            names(sealed_secrets_for(secret(
                "db",
                vec![owner("SealedSecret", "db")]
            ))),
            ["apps/db"]
        );
        assert_eq!(
            names(sealed_secrets_for(secret(
                "x",
                vec![owner("SealedSecret", "db"), owner("Deployment", "web")]
            ))),
            ["apps/db", "apps/x"]
        );
    }
}
