//! Kubernetes Events as the reference writes them: core/v1, source component
//! `sealed-secrets`, and a repeat of the same event on the same object
//! counted on the existing Event (like client-go's correlator) instead of
//! piling up new ones.
//!
//! kube-runtime's `Recorder` keeps a whole `events.k8s.io` Event per key for
//! six minutes, which is most of the controller's memory after a cold start
//! with many SealedSecrets; this keeps one short entry per key, bounded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;

/// The reference's event source component.
pub const COMPONENT: &str = "sealed-secrets";
/// As client-go's correlator: at most this many distinct events remembered.
const MAX_REMEMBERED: usize = 4096;
/// A repeat after this long starts a new Event, as client-go's aggregation window.
const REMEMBER_FOR: Duration = Duration::from_secs(10 * 60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// One Event already written: its name, and how often it happened.
struct Written {
    name: String,
    count: i32,
    last_seen: Instant,
}

/// The Events written recently, by [`event_key`]; bounded.
#[derive(Default)]
struct Correlator {
    written: HashMap<String, Written>,
}

impl Correlator {
    /// The name and next count of an Event for this key written recently.
    fn repeat_of(&self, key: &str) -> Option<(String, i32)> {
        let previous = self.written.get(key)?;
        (previous.last_seen.elapsed() < REMEMBER_FOR)
            .then(|| (previous.name.clone(), previous.count.saturating_add(1)))
    }

    fn remember(&mut self, key: String, name: String, count: i32) {
        if self.written.len() >= MAX_REMEMBERED && !self.written.contains_key(&key) {
            self.written
                .retain(|_, w| w.last_seen.elapsed() < REMEMBER_FOR);
            if self.written.len() >= MAX_REMEMBERED {
                let oldest = self
                    .written
                    .iter()
                    .min_by_key(|(_, w)| w.last_seen)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    self.written.remove(&oldest);
                }
            }
        }
        self.written.insert(
            key,
            Written {
                name,
                count,
                last_seen: Instant::now(),
            },
        );
    }
}

pub struct EventRecorder {
    client: Client,
    host: Option<String>,
    correlator: Mutex<Correlator>,
}

impl EventRecorder {
    /// `host`: the pod's name (`HOSTNAME`), shown as the event's source host.
    pub fn new(client: Client, host: Option<String>) -> Self {
        Self {
            client,
            host,
            correlator: Mutex::default(),
        }
    }

    /// Writes the event, or counts a repeat on the one written before.
    pub async fn publish(
        &self,
        regarding: &ObjectReference,
        type_: EventType,
        reason: &str,
        message: &str,
    ) -> Result<(), kube::Error> {
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        let key = event_key(regarding, type_, reason, message);
        let now = Timestamp::now();
        let api: Api<Event> = Api::namespaced(self.client.clone(), namespace);

        let repeat = self.correlator.lock().ok().and_then(|c| c.repeat_of(&key));
        if let Some((name, count)) = repeat {
            let patch = serde_json::json!({
                "count": count,
                "lastTimestamp": Time(now),
            });
            match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    self.remember(key, name, count);
                    return Ok(());
                }
                // Expired or deleted meanwhile: write a new one.
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(e) => return Err(e),
            }
        }

        let event = new_event(self.host.as_deref(), regarding, type_, reason, message, now);
        let name = event.metadata.name.clone().unwrap_or_default();
        api.create(&PostParams::default(), &event).await?;
        self.remember(key, name, 1);
        Ok(())
    }

    fn remember(&self, key: String, name: String, count: i32) {
        if let Ok(mut correlator) = self.correlator.lock() {
            correlator.remember(key, name, count);
        }
    }
}

fn new_event(
    host: Option<&str>,
    regarding: &ObjectReference,
    type_: EventType,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> Event {
    let object_name = regarding.name.as_deref().unwrap_or(COMPONENT);
    Event {
        metadata: ObjectMeta {
            name: Some(event_name(object_name, now)),
            namespace: regarding.namespace.clone(),
            ..ObjectMeta::default()
        },
        involved_object: regarding.clone(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        type_: Some(type_.as_str().to_string()),
        count: Some(1),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        source: Some(EventSource {
            component: Some(COMPONENT.to_string()),
            host: host.map(str::to_string),
        }),
        reporting_component: Some(COMPONENT.to_string()),
        reporting_instance: host.map(str::to_string),
        ..Event::default()
    }
}

/// client-go's naming: the object's name and the time in hex nanoseconds,
/// with the name cut so the whole stays a valid name (253 characters): a
/// SealedSecret may have a 253-character name, and client-go's event for it
/// is refused.
fn event_name(object_name: &str, now: Timestamp) -> String {
    let suffix = format!(".{:x}", now.as_nanosecond());
    let room = 253usize.saturating_sub(suffix.len());
    let mut cut = object_name.len().min(room);
    while !object_name.is_char_boundary(cut) {
        cut -= 1;
    }
    // A DNS label ends with a letter or digit.
    let prefix = object_name[..cut].trim_end_matches(['.', '-']);
    format!("{prefix}{suffix}")
}

/// Same object (by uid), type, reason and message: the same event.
fn event_key(regarding: &ObjectReference, type_: EventType, reason: &str, message: &str) -> String {
    let object = regarding
        .uid
        .as_deref()
        .or(regarding.name.as_deref())
        .unwrap_or_default();
    format!("{object}\0{}\0{reason}\0{message}", type_.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(uid: &str) -> ObjectReference {
        ObjectReference {
            api_version: Some("bitnami.com/v1alpha1".into()),
            kind: Some("SealedSecret".into()),
            name: Some("db".into()),
            namespace: Some("apps".into()),
            uid: Some(uid.into()),
            ..ObjectReference::default()
        }
    }

    fn key(uid: &str, reason: &str, message: &str) -> String {
        event_key(&object(uid), EventType::Warning, reason, message)
    }

    #[test]
    fn a_repeat_counts_on_the_same_event() {
        let mut c = Correlator::default();
        assert_eq!(c.repeat_of(&key("u1", "ErrUpdateFailed", "m")), None);
        c.remember(key("u1", "ErrUpdateFailed", "m"), "db.1".into(), 1);
        assert_eq!(
            c.repeat_of(&key("u1", "ErrUpdateFailed", "m")),
            Some(("db.1".into(), 2))
        );
        assert_eq!(
            c.repeat_of(&key("u2", "ErrUpdateFailed", "m")),
            None,
            "another object"
        );
        assert_eq!(
            c.repeat_of(&key("u1", "ErrUpdateFailed", "n")),
            None,
            "another message"
        );
        assert_eq!(
            c.repeat_of(&key("u1", "ErrUnsealFailed", "m")),
            None,
            "another reason"
        );
    }

    #[test]
    fn memory_is_bounded_and_the_oldest_goes_first() {
        let mut c = Correlator::default();
        for i in 0..MAX_REMEMBERED + 10 {
            c.remember(
                key(&format!("u{i}"), "Unsealed", "ok"),
                format!("db.{i}"),
                1,
            );
        }
        assert_eq!(c.written.len(), MAX_REMEMBERED);
        let newest = key(&format!("u{}", MAX_REMEMBERED + 9), "Unsealed", "ok");
        assert!(c.repeat_of(&newest).is_some());
        assert!(c.repeat_of(&key("u0", "Unsealed", "ok")).is_none());
    }

    #[test]
    fn event_names_stay_valid_for_the_longest_object_names() {
        let now = Timestamp::from_second(1_700_000_000).unwrap_or_else(|e| panic!("{e}"));
        let suffix = format!(".{:x}", now.as_nanosecond());
        let longest = format!("{}-b", "a".repeat(251));
        let name = event_name(&longest, now);
        assert_eq!(name.len(), 253, "{name}");
        assert!(name.ends_with(&suffix));
        // Cut where a '-' or '.' would end the label: dropped.
        let dotted = format!("{}.-{}", "a".repeat(253 - suffix.len() - 2), "b".repeat(10));
        let name = event_name(&dotted, now);
        assert!(!name.contains(".-") && !name.contains("-."), "{name}");
        assert!(name.len() <= 253);
        assert_eq!(event_name("db", now), format!("db{suffix}"));
    }

    #[test]
    fn new_events_look_like_the_references() {
        let now = Timestamp::from_second(1_700_000_000).unwrap_or_else(|e| panic!("{e}"));
        let e = new_event(
            Some("pod-1"),
            &object("u1"),
            EventType::Normal,
            "Unsealed",
            "done",
            now,
        );
        assert_eq!(e.metadata.namespace.as_deref(), Some("apps"));
        assert_eq!(
            e.metadata.name.as_deref(),
            Some(format!("db.{:x}", now.as_nanosecond()).as_str())
        );
        assert_eq!(e.type_.as_deref(), Some("Normal"));
        assert_eq!(e.reason.as_deref(), Some("Unsealed"));
        assert_eq!(e.count, Some(1));
        let source = e.source.unwrap_or_default();
        assert_eq!(source.component.as_deref(), Some("sealed-secrets"));
        assert_eq!(source.host.as_deref(), Some("pod-1"));
        assert_eq!(e.involved_object.uid.as_deref(), Some("u1"));
    }
}
