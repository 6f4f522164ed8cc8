//! `kubeseal admin keys wrap` and `unwrap`: move the controller's keys from
//! plain key Secrets to KMS-wrapped ones and back, losing nothing.
//!
//! A key Secret's `type` is immutable, so a key changes custody by a new
//! Secret and the deletion of the old one. Per key, in this order:
//!
//! 1. if a Secret of the other custody already holds the same certificate
//!    (an earlier run stopped between its steps 2 and 4), go to 3 with it;
//! 2. create the new Secret (same extra labels and annotations, and the
//!    key's first creation time, so its rank does not move);
//! 3. read it back from the API server and check, through the KMS, that it
//!    holds exactly the old Secret's private key (PKCS#1 DER compared);
//! 4. only then delete the old Secret, on the condition that it is still
//!    the one read (uid and resourceVersion).
//!
//! So at every moment each key is held by at least one Secret that was
//! checked, and a run stopped anywhere (crash, Ctrl-C, an error, a lost
//! answer) leaves the old Secret, or both: running the command again picks
//! up from there without making another copy.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context as _, Error, Result};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use sealed_secrets_api::crypto::PrivateKey;
use sealed_secrets_api::keys::wrapped::{
    read_wrapped_key_secret, wrapped_key_secret, KEY_ID_ANNOTATION,
};
use sealed_secrets_api::keys::{key_created_annotation, key_secret, read_key_secret, KEY_LABEL};

use super::key_store::{connect, load, no_keys, secret_name, Context, Key, KeySecret};
use crate::cluster::{api_error, block_on};
use crate::kms::{same_key, Kms, KmsArgs};

/// kubectl's copy of the whole object it applied: for a key Secret, its
/// private key. Never carried over to the other Secret.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

#[derive(Debug, clap::Args)]
pub(crate) struct CustodyArgs {
    /// Only say what would be done; nothing is created or deleted (the KMS is still checked)
    #[arg(long)]
    dry_run: bool,
}

/// Which way keys move.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Wrap,
    Unwrap,
}

impl Direction {
    fn command(self) -> &'static str {
        match self {
            Direction::Wrap => "kubeseal admin keys wrap",
            Direction::Unwrap => "kubeseal admin keys unwrap",
        }
    }

    /// Whether `key` is one to move (else it is a possible target).
    fn moves(self, key: &Key) -> bool {
        match self {
            Direction::Wrap => key.plain().is_some(),
            Direction::Unwrap => key.wrapped().is_some(),
        }
    }

    fn from(self) -> &'static str {
        match self {
            Direction::Wrap => "plain",
            Direction::Unwrap => "KMS-wrapped",
        }
    }

    fn to(self) -> &'static str {
        match self {
            Direction::Wrap => "KMS-wrapped",
            Direction::Unwrap => "plain",
        }
    }
}

pub(crate) fn wrap(ctx: &Context<'_>, kms: &KmsArgs, args: &CustodyArgs) -> Result<ExitCode> {
    run(ctx, kms, args, Direction::Wrap)
}

pub(crate) fn unwrap(ctx: &Context<'_>, kms: &KmsArgs, args: &CustodyArgs) -> Result<ExitCode> {
    run(ctx, kms, args, Direction::Unwrap)
}

/// Labels or annotations, as `key_secret` and `wrapped_key_secret` take them.
type Pairs = Vec<(String, String)>;

/// Labels and annotations of `from` to carry over to the Secret that takes
/// its key: all but the key label, the KMS key_id (the new Secret says its
/// own), kubectl's last applied copy; plus the key's first creation time.
fn carried_over(from: &Secret) -> (Pairs, Pairs) {
    let labels = from
        .metadata
        .labels
        .iter()
        .flatten()
        .filter(|(name, _)| name.as_str() != KEY_LABEL)
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let mut annotations: BTreeMap<String, String> = from
        .metadata
        .annotations
        .iter()
        .flatten()
        .filter(|(name, _)| ![KEY_ID_ANNOTATION, LAST_APPLIED].contains(&name.as_str()))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    annotations.extend(key_created_annotation(from));
    (labels, annotations.into_iter().collect())
}

/// What stopped a run, in words that say what state things are in.
struct Stop {
    done: usize,
    command: &'static str,
}

impl Stop {
    fn error(&self, error: Error, state: String) -> Error {
        error.context(format!(
            "stopped: {state}. {} key(s) were moved before this. Nothing was deleted that was not \
             verified first; run `{}` again (safe: it takes up where this stopped)",
            self.done, self.command
        ))
    }
}

fn run(ctx: &Context<'_>, kms: &KmsArgs, args: &CustodyArgs, way: Direction) -> Result<ExitCode> {
    block_on(async {
        let (_, api) = connect(ctx).await?;
        let keys = load(&api, ctx).await?;
        if keys.is_empty() {
            return Err(no_keys(ctx));
        }
        for k in &keys {
            if let Err(reason) = &k.key {
                eprintln!(
                    "warning: secret {} is not a usable key, left as it is: {reason}",
                    k.name
                );
            }
        }
        let readable: Vec<(&KeySecret, &Key)> = keys
            .iter()
            .filter_map(|k| k.key.as_ref().ok().map(|key| (k, key)))
            .collect();
        let to_move: Vec<(&KeySecret, &Key)> = readable
            .iter()
            .copied()
            .filter(|(_, key)| way.moves(key))
            .collect();
        if to_move.is_empty() {
            println!(
                "nothing to do: the {} key(s) in {} are all {} already",
                readable.len(),
                ctx.namespace,
                way.to()
            );
            return Ok(());
        }
        // The Secrets that already hold a key the other way, by fingerprint.
        let mut targets: BTreeMap<String, String> = readable
            .iter()
            .filter(|(_, key)| !way.moves(key))
            .map(|(k, key)| (key.fingerprint.clone(), k.name.clone()))
            .collect();
        let what = match way {
            Direction::Wrap => format!(
                "wrapping {} plain key(s) in {}",
                to_move.len(),
                ctx.namespace
            ),
            Direction::Unwrap => format!(
                "{} key(s) in {} are KMS-wrapped: unwrapping them",
                to_move.len(),
                ctx.namespace
            ),
        };
        // Before anything changes: refused when the KMS is not there.
        let kms = kms.connect(&what).await.context("nothing was changed")?;
        let mut stop = Stop {
            done: 0,
            command: way.command(),
        };
        for (k, key) in to_move {
            let about = format!("{} ({})", k.name, key.fingerprint);
            let existing = targets.get(&key.fingerprint).cloned();
            if args.dry_run {
                match (&existing, way) {
                    (Some(name), _) => println!(
                        "would delete {about}: its key is already {} in {name}, once that is verified to hold it",
                        way.to()
                    ),
                    (None, Direction::Wrap) => println!(
                        "would wrap {about} with KMS key_id {} into a new {}* Secret, verify it, then delete {}",
                        kms.key_id(),
                        ctx.prefix,
                        k.name
                    ),
                    (None, Direction::Unwrap) => println!(
                        "would unwrap {about} into a new plain {}* Secret, verify it, then delete {}",
                        ctx.prefix, k.name
                    ),
                }
                continue;
            }
            // The private key: the one in the clear, or unwrapped.
            let private = match (key.plain(), key.wrapped()) {
                (Some(private), _) => private.clone(),
                (None, Some(wrapped)) => kms.unwrap(wrapped).await.map_err(|e| {
                    stop.error(e, format!("{about} is unchanged, still {}", way.from()))
                })?,
                (None, None) => unreachable!("a key is plain or wrapped"),
            };
            let (target, resumed) = match existing {
                Some(name) => {
                    // Read again: it is the copy on the API server that counts.
                    let secret = get(&api, ctx, &name).await.map_err(|e| {
                        stop.error(
                            e,
                            format!(
                                "{about} is unchanged; {name} also holds its key, not verified yet"
                            ),
                        )
                    })?;
                    (secret, true)
                }
                None => {
                    let new = new_secret(ctx, &kms, way, &k.secret, key, &private)
                        .await
                        .map_err(|e| {
                            stop.error(e, format!("{about} is unchanged, still {}", way.from()))
                        })?;
                    let created = api
                        .create(&PostParams::default(), &new)
                        .await
                        .map_err(|e| {
                            stop.error(
                                api_error(e, "create", "secrets", ctx.place()),
                                format!(
                                    "{about} is unchanged, still {}; if the API server made the new Secret \
                                     all the same, the next run finds it and checks it",
                                    way.from()
                                ),
                            )
                        })?;
                    let name = secret_name(&created);
                    targets.insert(key.fingerprint.clone(), name.clone());
                    let secret = get(&api, ctx, &name).await.map_err(|e| {
                        stop.error(
                            e,
                            format!(
                                "{about} is unchanged; its {} copy {name} was created but not verified yet",
                                way.to()
                            ),
                        )
                    })?;
                    (secret, false)
                }
            };
            let target_name = secret_name(&target);
            verify(&kms, way, &target, &private).await.map_err(|e| {
                stop.error(
                    e,
                    format!(
                        "{about} is unchanged; {target_name}, which should hold the same key {}, does not \
                         (check it: if it is broken, delete it, then run again)",
                        way.to()
                    ),
                )
            })?;
            delete_if_unchanged(&api, ctx, &k.secret).await.map_err(|e| {
                stop.error(
                    e,
                    format!(
                        "{target_name} holds the key of {about}, {} and verified, but {} is still there too",
                        way.to(),
                        k.name
                    ),
                )
            })?;
            stop.done += 1;
            let custody = match way {
                Direction::Wrap => format!("KMS-wrapped, KMS key_id {}", key_id_of(&target)),
                Direction::Unwrap => "plain".into(),
            };
            if resumed {
                println!(
                    "{about}: already in {target_name} ({custody}), verified; deleted {}",
                    k.name
                );
            } else {
                let verb = match way {
                    Direction::Wrap => "wrapped",
                    Direction::Unwrap => "unwrapped",
                };
                println!(
                    "{verb} {about} into {target_name} ({custody}), verified; deleted {}",
                    k.name
                );
            }
        }
        if args.dry_run {
            println!("dry run: nothing changed");
        } else {
            println!(
                "{} key(s) in {} moved to {} Secrets",
                stop.done,
                ctx.namespace,
                way.to()
            );
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn key_id_of(secret: &Secret) -> String {
    read_wrapped_key_secret(secret)
        .map(|w| w.key_id)
        .unwrap_or_default()
}

/// The Secret that takes over the key of `from`.
async fn new_secret(
    ctx: &Context<'_>,
    kms: &Kms,
    way: Direction,
    from: &Secret,
    key: &Key,
    private: &PrivateKey,
) -> Result<Secret> {
    let (labels, annotations) = carried_over(from);
    match way {
        Direction::Wrap => {
            let wrapped = kms.wrap(private, &key.certificate).await?;
            Ok(wrapped_key_secret(
                &ctx.namespace,
                &ctx.prefix,
                &wrapped,
                &labels,
                &annotations,
            ))
        }
        Direction::Unwrap => key_secret(
            &ctx.namespace,
            &ctx.prefix,
            private,
            &key.certificate,
            &labels,
            &annotations,
        )
        .context("cannot encode the private key"),
    }
}

/// That `secret` (as read from the API server) holds exactly `private`, in
/// the custody `way` moves to.
async fn verify(kms: &Kms, way: Direction, secret: &Secret, private: &PrivateKey) -> Result<()> {
    let held = match way {
        Direction::Wrap => {
            let wrapped = read_wrapped_key_secret(secret)
                .map_err(|e| anyhow!("it is not a KMS-wrapped key Secret: {e}"))?;
            kms.unwrap(&wrapped).await?
        }
        Direction::Unwrap => {
            let (key, _) = read_key_secret(secret)
                .map_err(|e| anyhow!("it is not a plain key Secret: {e}"))?;
            key
        }
    };
    if !same_key(&held, private)? {
        bail!("it holds another private key");
    }
    Ok(())
}

async fn get(api: &Api<Secret>, ctx: &Context<'_>, name: &str) -> Result<Secret> {
    api.get(name)
        .await
        .map_err(|e| api_error(e, "get", "secrets", ctx.place()))
}

/// Deletes `secret` if it is still the object that was read; gone already
/// is fine.
async fn delete_if_unchanged(api: &Api<Secret>, ctx: &Context<'_>, secret: &Secret) -> Result<()> {
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: secret.metadata.uid.clone(),
            resource_version: secret.metadata.resource_version.clone(),
        }),
        ..DeleteParams::default()
    };
    match api.delete(&secret_name(secret), &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Err(anyhow!(
            "cannot delete secrets in namespace {:?}: it changed since it was read ({})",
            ctx.namespace,
            s.message
        )),
        Err(e) => Err(api_error(e, "delete", "secrets", ctx.place())),
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use sealed_secrets_api::keys::KEY_CREATED_ANNOTATION;

    use super::*;

    #[test]
    fn labels_and_annotations_carry_over_but_not_the_key_or_its_label() {
        let mut secret = Secret::default();
        secret.metadata.creation_timestamp = Some(Time(
            k8s_openapi::jiff::Timestamp::from_second(1_700_000_000).expect("time"),
        ));
        secret.metadata.labels = Some(BTreeMap::from([
            (KEY_LABEL.to_string(), "active".to_string()),
            ("team".to_string(), "a".to_string()),
        ]));
        secret.metadata.annotations = Some(BTreeMap::from([
            (
                LAST_APPLIED.to_string(),
                "{\"data\":{\"tls.key\":\"...\"}}".to_string(),
            ),
            (KEY_ID_ANNOTATION.to_string(), "kek-1".to_string()),
            ("note".to_string(), "keep".to_string()),
        ]));
        let (labels, annotations) = carried_over(&secret);
        assert_eq!(labels, [("team".to_string(), "a".to_string())]);
        assert_eq!(
            annotations,
            [
                ("note".to_string(), "keep".to_string()),
                (
                    KEY_CREATED_ANNOTATION.to_string(),
                    "2023-11-14T22:13:20Z".to_string()
                ),
            ]
        );
        // An earlier rewrite's time stays the key's.
        secret.metadata.annotations = Some(BTreeMap::from([(
            KEY_CREATED_ANNOTATION.to_string(),
            "2020-01-01T00:00:00Z".to_string(),
        )]));
        let (_, annotations) = carried_over(&secret);
        assert_eq!(
            annotations,
            [(
                KEY_CREATED_ANNOTATION.to_string(),
                "2020-01-01T00:00:00Z".to_string()
            )]
        );
    }

    /// A pending key stays pending through `wrap` and `unwrap`: the
    /// controller must not start sealing with it because it moved.
    #[test]
    fn the_activation_time_carries_over_both_ways() {
        use sealed_secrets_api::crypto::{Certificate, CertificateParams};
        use sealed_secrets_api::keys::wrapped::WrappedKey;
        use sealed_secrets_api::keys::{Activation, ACTIVATE_AT_ANNOTATION};
        let key = PrivateKey::generate(2048).expect("keygen");
        let certificate =
            Certificate::self_signed(&key, &CertificateParams::default()).expect("cert");
        let when = "2030-01-01T00:00:00Z";
        let at = sealed_secrets_api::keys::parse_activate_at(when).expect("time");
        let annotations = [(ACTIVATE_AT_ANNOTATION.to_string(), when.to_string())];
        let plain = key_secret("keys", "k", &key, &certificate, &[], &annotations).expect("plain");
        let (labels, carried) = carried_over(&plain);
        let wrapped = wrapped_key_secret(
            "keys",
            "k",
            &WrappedKey {
                certificate: certificate.clone(),
                key_id: "kek".into(),
                wrapped_dek: vec![1],
                annotations: BTreeMap::new(),
                sealed_key: vec![2],
            },
            &labels,
            &carried,
        );
        assert_eq!(Activation::of(&wrapped), Activation::At(at));
        let (labels, carried) = carried_over(&wrapped);
        let back = key_secret("keys", "k", &key, &certificate, &labels, &carried).expect("plain");
        assert_eq!(Activation::of(&back), Activation::At(at));
    }

    #[test]
    fn a_stop_says_the_state_and_that_a_rerun_is_safe() {
        let stop = Stop {
            done: 2,
            command: Direction::Wrap.command(),
        };
        let e = stop.error(anyhow!("boom"), "k (SHA256:x) is unchanged".into());
        let text = crate::error::render(&e);
        assert!(
            text.starts_with(
                "stopped: k (SHA256:x) is unchanged. 2 key(s) were moved before this."
            ),
            "{text}"
        );
        assert!(
            text.contains("run `kubeseal admin keys wrap` again (safe"),
            "{text}"
        );
        assert!(text.ends_with(": boom"), "{text}");
    }
}
