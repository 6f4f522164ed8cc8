//! When a key may start sealing (the reference's issue #359, "decouple the
//! current key from the latest key"): a key Secret annotated
//! [`ACTIVATE_AT_ANNOTATION`] opens SealedSecrets at once but seals only from
//! that time on, so it can be backed up before anything depends on it. The
//! controller and `kubeseal admin keys` pick the key that seals with the one
//! function here, so they always agree.

use std::time::SystemTime;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;

/// Annotation on a key Secret: the time (RFC 3339) from which the key seals.
/// Absent: it seals as soon as it is the newest, as in the reference.
pub const ACTIVATE_AT_ANNOTATION: &str = "sealedsecrets.bitnami.com/activate-at";

/// When a key may seal, as its Secret says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activation {
    /// No annotation: at once (every key the reference made).
    Immediate,
    /// From this time on.
    At(SystemTime),
    /// An annotation that is not an RFC 3339 time (the text): treated as
    /// active, as the reference (which ignores the annotation) would.
    Invalid(String),
}

impl Activation {
    /// The activation of the key in `secret`.
    pub fn of(secret: &Secret) -> Self {
        match secret
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(ACTIVATE_AT_ANNOTATION))
        {
            None => Self::Immediate,
            Some(text) => match parse_activate_at(text) {
                Some(at) => Self::At(at),
                None => Self::Invalid(text.clone()),
            },
        }
    }

    /// Whether the key may seal at `now`.
    pub fn is_active_at(&self, now: SystemTime) -> bool {
        match self {
            Self::At(at) => *at <= now,
            Self::Immediate | Self::Invalid(_) => true,
        }
    }

    /// The time it activates, when that is after `now`.
    pub fn pending_until(&self, now: SystemTime) -> Option<SystemTime> {
        match self {
            Self::At(at) if *at > now => Some(*at),
            _ => None,
        }
    }
}

/// An RFC 3339 time (any offset; `2025-07-01T12:00:00Z`).
pub fn parse_activate_at(text: &str) -> Option<SystemTime> {
    text.trim().parse::<Timestamp>().ok().map(SystemTime::from)
}

/// `at` as the annotation holds it: RFC 3339 in UTC, whole seconds.
pub fn format_activate_at(at: SystemTime) -> String {
    let secs = match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    };
    Timestamp::from_second(secs)
        .unwrap_or(Timestamp::MAX)
        .to_string()
}

/// The annotation that makes a key seal from `at` on.
pub fn activate_at_annotation(at: SystemTime) -> (String, String) {
    (ACTIVATE_AT_ANNOTATION.to_string(), format_activate_at(at))
}

/// Which key seals at `now`: the first of `ranked` (newest first, by
/// [`super::KeyRank`]) that is active. `None` in `ranked` is a key that may
/// not seal at all (unreadable, or refused by the controller's custody).
pub fn sealing_index<'a>(
    ranked: impl IntoIterator<Item = Option<&'a Activation>>,
    now: SystemTime,
) -> Option<usize> {
    ranked
        .into_iter()
        .position(|activation| activation.is_some_and(|a| a.is_active_at(now)))
}

/// The earliest activation after `now`: when the key that seals may change
/// next, without any key Secret changing.
pub fn next_activation<'a>(
    activations: impl IntoIterator<Item = &'a Activation>,
    now: SystemTime,
) -> Option<SystemTime> {
    activations
        .into_iter()
        .filter_map(|a| a.pending_until(now))
        .min()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn annotated(value: Option<&str>) -> Secret {
        let mut secret = Secret::default();
        secret.metadata.annotations =
            value.map(|v| BTreeMap::from([(ACTIVATE_AT_ANNOTATION.to_string(), v.to_string())]));
        secret
    }

    #[test]
    fn the_annotation_says_when_a_key_seals() {
        assert_eq!(Activation::of(&annotated(None)), Activation::Immediate);
        let a = Activation::of(&annotated(Some("2025-07-01T12:00:00Z")));
        assert_eq!(a, Activation::At(at(1_751_371_200)));
        assert!(!a.is_active_at(at(1_751_371_199)));
        assert!(a.is_active_at(at(1_751_371_200)));
        assert_eq!(a.pending_until(at(1)), Some(at(1_751_371_200)));
        assert_eq!(a.pending_until(at(1_751_371_200)), None);
        // Any offset is read; it is written back in UTC.
        let a = Activation::of(&annotated(Some("2025-07-01T14:00:00+02:00")));
        assert_eq!(a, Activation::At(at(1_751_371_200)));
        // Not a time: active, and the text is kept to be shown.
        let a = Activation::of(&annotated(Some("tomorrow")));
        assert_eq!(a, Activation::Invalid("tomorrow".into()));
        assert!(a.is_active_at(at(0)));
        assert_eq!(
            format_activate_at(at(1_751_371_200)),
            "2025-07-01T12:00:00Z"
        );
        assert_eq!(
            activate_at_annotation(at(1_751_371_200) + Duration::from_millis(700)),
            (ACTIVATE_AT_ANNOTATION.into(), "2025-07-01T12:00:00Z".into())
        );
        assert_eq!(parse_activate_at("2025-07-01"), None);
    }

    #[test]
    fn the_newest_active_key_seals() {
        let (pending, now_active, invalid) = (
            Activation::At(at(200)),
            Activation::At(at(100)),
            Activation::Invalid("x".into()),
        );
        let immediate = Activation::Immediate;
        // Newest first: a pending key, then an active one.
        let ranked = [Some(&pending), Some(&immediate)];
        assert_eq!(sealing_index(ranked, at(150)), Some(1));
        assert_eq!(sealing_index(ranked, at(200)), Some(0));
        // A key that may not seal is passed over; an invalid time seals.
        assert_eq!(sealing_index([None, Some(&invalid)], at(0)), Some(1));
        assert_eq!(sealing_index([Some(&pending)], at(0)), None);
        assert_eq!(sealing_index([], at(0)), None);
        // The next change is the earliest activation still ahead.
        let all = [&pending, &now_active, &immediate, &invalid];
        assert_eq!(next_activation(all, at(50)), Some(at(100)));
        assert_eq!(next_activation(all, at(100)), Some(at(200)));
        assert_eq!(next_activation(all, at(200)), None);
    }
}
