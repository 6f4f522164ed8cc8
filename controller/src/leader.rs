//! Leader election on a `coordination.k8s.io/v1` Lease, as client-go's
//! `leaderelection` does it: every replica watches and serves; only the one
//! holding the Lease writes (Secrets, statuses, events, new keys).
//!
//! The gate is time-based: a replica is leader only while its last
//! successful renewal is younger than the renew deadline. Others take the
//! Lease only after seeing it unchanged for the (longer) lease duration, so a
//! leader cut off from the API server stops writing before anyone else can
//! start, even if its election task is stuck.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use tokio::sync::watch;

use crate::metrics::Metrics;
use crate::Error;

/// Set by a replica that got SIGUSR1 without leading; the leader makes the
/// new key and clears it when it renews.
pub const KEY_REQUEST_ANNOTATION: &str = "sealed-secrets-rs/new-key-requested-at";

/// `--leader-elect-*`.
#[derive(Debug, Clone)]
pub struct LeaseConfig {
    pub name: String,
    pub namespace: String,
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

impl LeaseConfig {
    /// client-go's rules: lease duration > renew deadline > 1.2 x retry period.
    pub fn validate(&self) -> Result<(), Error> {
        let problem = if self.name.is_empty() {
            Some((
                "leader-elect-resource-name",
                "must not be empty".to_string(),
            ))
        } else if self.lease_duration <= self.renew_deadline {
            Some((
                "leader-elect-lease-duration",
                format!(
                    "{:?} must be longer than --leader-elect-renew-deadline ({:?})",
                    self.lease_duration, self.renew_deadline
                ),
            ))
        } else if self.renew_deadline.as_secs_f64() <= 1.2 * self.retry_period.as_secs_f64() {
            Some((
                "leader-elect-renew-deadline",
                format!(
                    "{:?} must be longer than 1.2 x --leader-elect-retry-period ({:?})",
                    self.renew_deadline, self.retry_period
                ),
            ))
        } else if self.retry_period.is_zero() {
            Some((
                "leader-elect-retry-period",
                "must be longer than 0".to_string(),
            ))
        } else {
            None
        };
        match problem {
            Some((flag, reason)) => Err(Error::Flag { flag, reason }),
            None => Ok(()),
        }
    }
}

/// Whether this replica may write now, and a signal when that changes.
pub struct Leadership {
    elected: bool,
    renew_deadline: Duration,
    /// When the last successful acquire or renew was *sent*.
    renewed_at: Mutex<Option<Instant>>,
    /// Someone was refused a write since the last publish: a gate that
    /// closed and reopened between two renewals must still be announced,
    /// or what was refused meanwhile would wait for its next change.
    refused: AtomicBool,
    changes: watch::Sender<bool>,
}

impl Leadership {
    /// No election: this replica always leads (a single replica, as the reference).
    pub fn always() -> Arc<Self> {
        let (changes, _) = watch::channel(true);
        Arc::new(Self {
            elected: false,
            renew_deadline: Duration::MAX,
            renewed_at: Mutex::new(None),
            refused: AtomicBool::new(false),
            changes,
        })
    }

    pub fn elected(renew_deadline: Duration) -> Arc<Self> {
        let (changes, _) = watch::channel(false);
        Arc::new(Self {
            elected: true,
            renew_deadline,
            renewed_at: Mutex::new(None),
            refused: AtomicBool::new(false),
            changes,
        })
    }

    /// True while writes are allowed. A `false` is remembered: whoever was
    /// refused is owed a reconcile when the gate opens again.
    pub fn is_leader(&self) -> bool {
        let open = self.gate_open();
        if !open {
            self.refused.store(true, Ordering::Relaxed);
        }
        open
    }

    fn gate_open(&self) -> bool {
        if !self.elected {
            return true;
        }
        self.renewed_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .is_some_and(|at| at.elapsed() < self.renew_deadline)
    }

    pub fn is_elected(&self) -> bool {
        self.elected
    }

    /// Fires `true` on becoming leader, and on the gate opening again after
    /// a renewal came too late (still leader, but writes were refused
    /// meanwhile); `false` on losing it.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.changes.subscribe()
    }

    fn renewed(&self, sent: Instant) {
        if let Ok(mut at) = self.renewed_at.lock() {
            *at = Some(sent);
        }
    }

    fn step_down(&self) {
        if let Ok(mut at) = self.renewed_at.lock() {
            *at = None;
        }
    }

    /// Publishes the current state if it changed, or if the gate reopened
    /// after refusing someone; returns it.
    fn publish(&self, metrics: &Metrics, identity: &str) -> bool {
        let now = self.gate_open();
        let reopened = now && self.refused.swap(false, Ordering::Relaxed);
        let mut changed = false;
        self.changes.send_if_modified(|was| {
            changed = *was != now;
            *was = now;
            changed || reopened
        });
        if changed {
            if now {
                tracing::info!(identity, "became leader: reconciling and managing keys");
            } else {
                tracing::warn!(identity, "not leader any more: stopped writing");
            }
        } else if reopened {
            tracing::warn!(
                identity,
                "a leader Lease renewal came after the renew deadline: writes were refused meanwhile; reconciling everything"
            );
        }
        metrics.leader(identity, now);
        now
    }
}

/// What the last look at the Lease showed, and when it changed: the Lease is
/// free to take once it has not changed for its duration (local clock only,
/// so clock skew between replicas does not matter).
struct Observed {
    record: (Option<String>, Option<MicroTime>),
    since: Instant,
}

pub struct Elector {
    api: Api<Lease>,
    config: LeaseConfig,
    leadership: Arc<Leadership>,
    metrics: Arc<Metrics>,
    observed: Option<Observed>,
    /// Set when the leader's renewal found a new-key request.
    key_requests: tokio::sync::mpsc::Sender<()>,
}

impl Elector {
    pub fn new(
        client: kube::Client,
        config: LeaseConfig,
        leadership: Arc<Leadership>,
        metrics: Arc<Metrics>,
        key_requests: tokio::sync::mpsc::Sender<()>,
    ) -> Self {
        Self {
            api: Api::namespaced(client, &config.namespace),
            config,
            leadership,
            metrics,
            observed: None,
            key_requests,
        }
    }

    /// Tries to acquire or renew every retry period until `shutdown`, then
    /// releases the Lease if held, so another replica takes over at once.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let sent = Instant::now();
            // A hung API server must not hold the loop past the deadline.
            let attempt =
                tokio::time::timeout(self.config.renew_deadline, self.try_acquire_or_renew()).await;
            match attempt {
                Ok(Ok(true)) => self.leadership.renewed(sent),
                Ok(Ok(false)) => self.leadership.step_down(),
                Ok(Err(e)) => tracing::warn!(
                    lease = %self.config.name,
                    namespace = %self.config.namespace,
                    error = %e,
                    "cannot acquire or renew the leader Lease{}",
                    forbidden_hint(&e)
                ),
                Err(_) => {
                    tracing::warn!(lease = %self.config.name, "leader Lease request timed out")
                }
            }
            self.leadership
                .publish(&self.metrics, &self.config.identity);
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.config.retry_period) => {}
            }
        }
        if self.leadership.is_leader() {
            self.leadership.step_down();
            self.leadership
                .publish(&self.metrics, &self.config.identity);
            match tokio::time::timeout(self.config.retry_period, self.release()).await {
                Ok(Ok(())) => tracing::info!("released the leader Lease"),
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot release the leader Lease"),
                Err(_) => tracing::warn!("releasing the leader Lease timed out"),
            }
        }
    }

    async fn try_acquire_or_renew(&mut self) -> Result<bool, kube::Error> {
        let now = MicroTime(k8s_openapi::jiff::Timestamp::now());
        let duration_secs =
            i32::try_from(self.config.lease_duration.as_secs().max(1)).unwrap_or(i32::MAX);
        let Some(mut lease) = self.api.get_opt(&self.config.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.name.clone()),
                    namespace: Some(self.config.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.config.identity.clone()),
                    lease_duration_seconds: Some(duration_secs),
                    acquire_time: Some(now.clone()),
                    renew_time: Some(now),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
        let record = (holder.clone(), spec.renew_time.clone());
        if self.observed.as_ref().is_none_or(|o| o.record != record) {
            self.observed = Some(Observed {
                record,
                since: Instant::now(),
            });
        }
        let mine = holder.as_deref() == Some(self.config.identity.as_str());
        if let Some(other) = holder.as_deref().filter(|_| !mine) {
            let valid_for = Duration::from_secs(
                u64::try_from(spec.lease_duration_seconds.unwrap_or(duration_secs)).unwrap_or(0),
            );
            let unchanged_for = self
                .observed
                .as_ref()
                .map_or(Duration::ZERO, |o| o.since.elapsed());
            if unchanged_for < valid_for {
                tracing::debug!(holder = other, "the leader Lease is held");
                return Ok(false);
            }
            tracing::info!(previous = other, "the leader Lease expired; taking it over");
        }
        let requested = lease
            .metadata
            .annotations
            .as_mut()
            .and_then(|a| a.remove(KEY_REQUEST_ANNOTATION))
            .is_some();
        lease.spec = Some(LeaseSpec {
            holder_identity: Some(self.config.identity.clone()),
            lease_duration_seconds: Some(duration_secs),
            acquire_time: if mine {
                spec.acquire_time
            } else {
                Some(now.clone())
            },
            renew_time: Some(now),
            lease_transitions: Some(spec.lease_transitions.unwrap_or(0) + i32::from(!mine)),
            ..spec
        });
        match self
            .api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => {
                if requested {
                    tracing::info!("a new sealing key was requested through the leader Lease");
                    let _ = self.key_requests.try_send(());
                }
                Ok(true)
            }
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// As client-go's ReleaseOnCancel: no holder, a one-second lease.
    async fn release(&self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.config.name).await? else {
            return Ok(());
        };
        let spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return Ok(());
        }
        let now = MicroTime(k8s_openapi::jiff::Timestamp::now());
        lease.spec = Some(LeaseSpec {
            holder_identity: None,
            lease_duration_seconds: Some(1),
            renew_time: Some(now.clone()),
            acquire_time: Some(now),
            ..spec
        });
        self.api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await
            .map(|_| ())
    }
}

/// Asks the leader for a new key (SIGUSR1 on a replica that does not lead).
pub async fn request_new_key(
    client: kube::Client,
    config: &LeaseConfig,
) -> Result<(), kube::Error> {
    let api: Api<Lease> = Api::namespaced(client, &config.namespace);
    for _attempt in 0..5 {
        let Some(mut lease) = api.get_opt(&config.name).await? else {
            tracing::warn!("no leader Lease yet: the first leader makes a key anyway");
            return Ok(());
        };
        lease
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(
                KEY_REQUEST_ANNOTATION.to_string(),
                k8s_openapi::jiff::Timestamp::now().to_string(),
            );
        match api
            .replace(&config.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn forbidden_hint(e: &kube::Error) -> &'static str {
    match e {
        kube::Error::Api(s) if s.code == 403 => {
            "; the controller's ServiceAccount needs get, update and create on leases \
             (coordination.k8s.io) in its namespace (manifests/rbac.yaml), or run without --leader-elect"
        }
        _ => "",
    }
}

/// `--leader-elect` and its settings, validated; `None` when off.
pub fn lease_config(args: &crate::Args, namespace: &str) -> Result<Option<LeaseConfig>, Error> {
    if !args.leader_elect {
        return Ok(None);
    }
    let lease = LeaseConfig {
        name: args.leader_elect_resource_name.clone(),
        namespace: if args.leader_elect_resource_namespace.is_empty() {
            namespace.to_string()
        } else {
            args.leader_elect_resource_namespace.clone()
        },
        identity: format!("{}_{:016x}", identity(), rand::random::<u64>()),
        lease_duration: args.leader_elect_lease_duration,
        renew_deadline: args.leader_elect_renew_deadline,
        retry_period: args.leader_elect_retry_period,
    };
    lease.validate()?;
    Ok(Some(lease))
}

/// The Pod's name (HOSTNAME), else the machine's.
pub fn identity() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "sealed-secrets-controller".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> LeaseConfig {
        LeaseConfig {
            name: "sealed-secrets-controller".into(),
            namespace: "kube-system".into(),
            identity: "a".into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    #[test]
    fn durations_follow_client_go_rules() {
        assert!(config().validate().is_ok());
        let mut c = config();
        c.lease_duration = Duration::from_secs(10);
        assert!(matches!(
            c.validate(),
            Err(Error::Flag {
                flag: "leader-elect-lease-duration",
                ..
            })
        ));
        let mut c = config();
        c.retry_period = Duration::from_secs(9);
        let err = c.validate().unwrap_err();
        assert!(
            matches!(
                err,
                Error::Flag {
                    flag: "leader-elect-renew-deadline",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("--leader-elect-retry-period"),
            "{err}"
        );
        let mut c = config();
        c.name.clear();
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "--leader-elect-resource-name: must not be empty"
        );
    }

    #[test]
    fn the_gate_closes_by_itself_after_the_renew_deadline() {
        let leadership = Leadership::elected(Duration::from_millis(50));
        assert!(!leadership.is_leader());
        leadership.renewed(Instant::now());
        assert!(leadership.is_leader());
        std::thread::sleep(Duration::from_millis(80));
        assert!(!leadership.is_leader(), "no renewal: no writes");
        leadership.renewed(Instant::now());
        leadership.step_down();
        assert!(!leadership.is_leader());
        assert!(Leadership::always().is_leader());
    }

    #[test]
    fn transitions_are_published_once() {
        let metrics = Metrics::default();
        let leadership = Leadership::elected(Duration::from_secs(10));
        let mut rx = leadership.subscribe();
        assert!(!leadership.publish(&metrics, "a"));
        assert!(!rx.has_changed().unwrap_or(true));
        leadership.renewed(Instant::now());
        assert!(leadership.publish(&metrics, "a"));
        assert!(rx.has_changed().unwrap_or(false));
        rx.mark_unchanged();
        assert!(leadership.publish(&metrics, "a"));
        assert!(!rx.has_changed().unwrap_or(true));
        assert!(metrics
            .render()
            .contains("sealed_secrets_controller_leader{identity=\"a\"} 1"));
    }

    /// A renewal slower than the deadline closes the gate and the next one
    /// opens it again: still leader before and after, but the reconciles
    /// refused in between must be told, or they wait for their next change.
    #[test]
    fn a_gate_that_reopens_after_refusing_a_write_is_announced() {
        let metrics = Metrics::default();
        let deadline = Duration::from_secs(10);
        let leadership = Leadership::elected(deadline);
        let mut rx = leadership.subscribe();
        leadership.renewed(Instant::now());
        assert!(leadership.publish(&metrics, "a"));
        rx.mark_unchanged();

        // The last renewal is now older than the deadline (a slow Lease PUT).
        let Some(late) = Instant::now().checked_sub(deadline + Duration::from_secs(1)) else {
            return; // a clock this young cannot express the past; nothing to test
        };
        leadership.renewed(late);
        assert!(!leadership.is_leader(), "a reconcile is refused");
        leadership.renewed(Instant::now());
        assert!(leadership.publish(&metrics, "a"));
        assert!(
            rx.has_changed().unwrap_or(false),
            "the reopening is announced"
        );
        assert!(*rx.borrow_and_update());

        // Nobody refused: a renewal on time announces nothing.
        leadership.renewed(Instant::now());
        assert!(leadership.publish(&metrics, "a"));
        assert!(!rx.has_changed().unwrap_or(true));
    }
}
