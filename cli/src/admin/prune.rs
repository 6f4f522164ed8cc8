//! `kubeseal admin keys prune`: delete old keys that no sealed item needs.
//!
//! `status.keyFingerprint` records one key per SealedSecret, but the items of
//! one object can be sealed with different keys (`kubeseal --merge-into` or
//! `--raw` across a rotation). So prune looks at every item: with the key
//! Secrets it reads anyway, it RSA-decrypts the part of each item that holds
//! its session key (never the value) to learn which key opens it. A key that
//! opens any item is never deleted, `--force` or not. A KMS-wrapped
//! candidate's private key comes from the KMS (`--kms-endpoint`); without
//! it, nothing is deleted.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context as _, Result};
use kube::api::{DeleteParams, DynamicObject, Preconditions};
use sealed_secrets_api::crypto::PrivateKey;
use sealed_secrets_api::keys::keys_needed;
use sealed_secrets_api::keys::wrapped::WrappedKey;
use sealed_secrets_api::SealedSecret;
use serde_json::Value;

use super::duration::parse_duration;
use super::key_store::{connect, load, no_keys, rfc3339, sealing, Context, Key, KeySecret};
use super::scan::{each_sealed_secret, scanned, some_of, ScanArgs};
use crate::cluster::{api_error, block_on};
use crate::kms::KmsArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct PruneArgs {
    /// Only keys whose certificate NotBefore is older than this, e.g. 720h, 90d, 1y
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", required = true)]
    older_than: Duration,
    /// Delete for real; without it, only print what would be deleted
    #[arg(short = 'y', long)]
    yes: bool,
    /// Delete even though some SealedSecrets cannot be read as such (so which keys they need is unknown). A key an item needs is never deleted
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    scan: ScanArgs,
}

/// Which SealedSecrets need which keys, item by item.
#[derive(Default)]
struct Needs {
    /// Fingerprint -> `namespace/name` of the SealedSecrets with an item it opens.
    by_key: BTreeMap<String, Vec<String>>,
    /// SealedSecrets that cannot be read as such, with the reason.
    unknown: Vec<String>,
}

impl Needs {
    fn add(&mut self, object: &DynamicObject, keys: &[&PrivateKey]) {
        let id = format!(
            "{}/{}",
            object.metadata.namespace.as_deref().unwrap_or_default(),
            object.metadata.name.as_deref().unwrap_or_default()
        );
        // Reading SealedSecrets forgives a malformed encryptedData (as the
        // reference's controller does); here that would hide items.
        let items = object.data.get("spec").and_then(|s| s.get("encryptedData"));
        let well_formed = items.is_none_or(|items| {
            items
                .as_object()
                .is_some_and(|map| map.values().all(Value::is_string))
        });
        if !well_formed {
            self.unknown
                .push(format!("{id} (spec.encryptedData is not a map of strings)"));
            return;
        }
        let sealed = serde_json::to_value(object).and_then(serde_json::from_value::<SealedSecret>);
        let sealed = match sealed {
            Ok(sealed) => sealed,
            Err(e) => {
                self.unknown.push(format!("{id} ({e})"));
                return;
            }
        };
        // The recorded key first: it opens most items.
        let recorded = object
            .data
            .get("status")
            .and_then(|s| s.get("keyFingerprint"))
            .and_then(Value::as_str);
        let mut ordered: Vec<&PrivateKey> = keys.to_vec();
        ordered.sort_by_key(|k| Some(k.fingerprint().as_str()) != recorded);
        for fingerprint in keys_needed(&sealed, &ordered).keys {
            self.by_key
                .entry(fingerprint.to_string())
                .or_default()
                .push(id.clone());
        }
    }
}

pub(crate) fn prune(ctx: &Context<'_>, kms: &KmsArgs, args: &PruneArgs) -> Result<ExitCode> {
    let namespaces = &args.scan.watched_namespaces;
    let age = humantime::format_duration(args.older_than);
    let now = SystemTime::now();
    let cutoff = now
        .checked_sub(args.older_than)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    block_on(async {
        let (client, api) = connect(ctx).await?;
        let keys = load(&api, ctx).await?;
        if keys.iter().all(|k| k.key.is_err()) {
            return Err(no_keys(ctx));
        }
        let candidates = candidates(&keys, cutoff, now);
        if candidates.is_empty() {
            println!(
                "nothing to prune: no key in {} older than the sealing key and {age} is done waiting for its activation time",
                ctx.namespace
            );
            return Ok(());
        }
        // Whether an item needs a candidate takes the candidate's private
        // key (an item a key not given opens needs none of those given): a
        // wrapped candidate's comes from the KMS.
        let mut private: Vec<PrivateKey> = keys
            .iter()
            .filter_map(|k| k.key.as_ref().ok().and_then(Key::plain).cloned())
            .collect();
        let wrapped: Vec<(&KeySecret, &WrappedKey)> = candidates
            .iter()
            .filter_map(|(k, key)| key.wrapped().map(|w| (*k, w)))
            .collect();
        if !wrapped.is_empty() {
            let why = format!(
                "{} of the candidate keys {} KMS-wrapped ({}): telling whether a SealedSecret still needs {} takes {} private key{}, \
                 so nothing was deleted",
                wrapped.len(),
                if wrapped.len() == 1 { "is" } else { "are" },
                some_of(&wrapped.iter().map(|(k, _)| k.name.clone()).collect::<Vec<_>>()),
                if wrapped.len() == 1 { "it" } else { "them" },
                if wrapped.len() == 1 { "its" } else { "their" },
                if wrapped.len() == 1 { "" } else { "s" },
            );
            let kms = kms.connect(&why).await?;
            for (k, w) in wrapped {
                let key = kms.unwrap(w).await.with_context(|| {
                    format!(
                        "cannot use KMS-wrapped key secret {}, so nothing was deleted",
                        k.name
                    )
                })?;
                private.push(key);
            }
        }
        let readable: Vec<&PrivateKey> = private.iter().collect();
        let mut needs = Needs::default();
        each_sealed_secret(&client, namespaces, |object| needs.add(object, &readable))
            .await
            .context(
                "cannot tell which SealedSecrets still need the old keys, so nothing was deleted",
            )?;
        if !needs.unknown.is_empty() {
            let what = format!(
                "{} SealedSecret{} in {} cannot be read as such, e.g. {}, so the keys they need are unknown",
                needs.unknown.len(),
                if needs.unknown.len() == 1 { "" } else { "s" },
                scanned(namespaces),
                some_of(&needs.unknown)
            );
            if !args.force {
                bail!(
                    "refusing to delete any of the {} candidate key(s): {what}. Fix or delete them, \
                     count only the namespaces the controller watches with --watched-namespaces, \
                     or pass --force if you are sure they do not need the old keys",
                    candidates.len()
                );
            }
            eprintln!("warning: --force: {what}");
        }
        let mut refused = 0;
        let mut deleted = 0;
        for (k, key) in &candidates {
            let about = format!(
                "{} ({}, created {})",
                k.name,
                key.fingerprint,
                rfc3339(key.not_before)
            );
            if let Some(users) = needs.by_key.get(&key.fingerprint) {
                refused += 1;
                println!(
                    "refused {about}: it still opens items of {} SealedSecret{}: {}",
                    users.len(),
                    if users.len() == 1 { "" } else { "s" },
                    some_of(users)
                );
                continue;
            }
            if !args.yes {
                println!("would delete {about}");
                continue;
            }
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: k.secret.metadata.uid.clone(),
                    resource_version: k.secret.metadata.resource_version.clone(),
                }),
                ..DeleteParams::default()
            };
            api.delete(&k.name, &params).await.map_err(|e| {
                api_error(e, "delete", "secrets", ctx.place()).context(format!(
                    "cannot delete {about} ({deleted} deleted before this failure)"
                ))
            })?;
            deleted += 1;
            println!("deleted {about}");
        }
        if !args.yes && candidates.len() > refused {
            println!("dry run: nothing deleted; run again with --yes to delete");
        }
        if deleted > 0 {
            println!("a running controller keeps deleted keys in memory until it restarts");
        }
        if refused > 0 {
            bail!(
                "refused to delete {refused} key(s) still in use: re-encrypt those SealedSecrets with the newest key \
                 (`kubeseal admin reencrypt FILES`, then apply them), then prune again"
            );
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The keys prune may delete if nothing needs them: made before `cutoff`
/// and ranked strictly below the key that seals at `now` (key times have
/// one-second resolution, and a controller started with another
/// --key-order-priority may seal with a key from the same second). Never
/// the sealing key, never a key still waiting for its activation time.
fn candidates(keys: &[KeySecret], cutoff: SystemTime, now: SystemTime) -> Vec<(&KeySecret, &Key)> {
    let Some(sealing_key) = sealing(keys, now) else {
        return Vec::new();
    };
    keys.iter()
        .filter_map(|k| k.key.as_ref().ok().map(|key| (k, key)))
        .filter(|(_, key)| {
            key.not_before < cutoff
                && key.rank.time() < sealing_key.rank.time()
                && key.activation.pending_until(now).is_none()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap as Map;

    use sealed_secrets_api::{seal_secret, SealOptions, Secret};
    use serde_json::json;

    use super::*;

    fn sealed_item(key: &PrivateKey, item: &str) -> (String, String) {
        let mut secret = Secret::default();
        secret.metadata.name = Some("db".into());
        secret.metadata.namespace = Some("apps".into());
        secret.data = Some(Map::from([(
            item.to_string(),
            k8s_openapi::ByteString(b"hunter2".to_vec()),
        )]));
        let sealed = seal_secret(secret, key.public_key(), &SealOptions::default()).expect("seal");
        sealed
            .spec
            .encrypted_data
            .into_iter()
            .next()
            .expect("one item")
    }

    /// Old keys, made 100 s apart; `activations` per key, oldest first.
    fn keys_made(activations: &[Option<SystemTime>]) -> Vec<KeySecret> {
        use sealed_secrets_api::crypto::{Certificate, CertificateParams};
        use sealed_secrets_api::keys::{activate_at_annotation, key_secret, KeyOrder};
        let mut keys: Vec<KeySecret> = activations
            .iter()
            .enumerate()
            .map(|(i, activation)| {
                let key = PrivateKey::generate(2048).expect("keygen");
                let params = CertificateParams {
                    not_before: SystemTime::UNIX_EPOCH + Duration::from_secs(100 * (i as u64 + 1)),
                    ..CertificateParams::default()
                };
                let cert = Certificate::self_signed(&key, &params).expect("cert");
                let annotations: Vec<(String, String)> =
                    activation.map(activate_at_annotation).into_iter().collect();
                let mut secret =
                    key_secret("keys", "k", &key, &cert, &[], &annotations).expect("secret");
                secret.metadata.name = Some(format!("k{i}"));
                KeySecret {
                    name: format!("k{i}"),
                    key: super::super::key_store::parse_key(&secret, KeyOrder::CertNotBefore),
                    secret,
                }
            })
            .collect();
        keys.reverse(); // newest first, as load() orders them
        keys
    }

    fn names(candidates: &[(&KeySecret, &Key)]) -> Vec<String> {
        candidates.iter().map(|(k, _)| k.name.clone()).collect()
    }

    #[test]
    fn prune_never_offers_the_sealing_key_nor_a_pending_one() {
        let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let (now, cutoff) = (at(10_000), at(9_000));
        // k0, k1 active; k2 the newest, pending: k1 seals.
        let keys = keys_made(&[None, None, Some(at(20_000))]);
        assert_eq!(names(&candidates(&keys, cutoff, now)), ["k0"]);
        // Once k2 is active it seals, and k1 may go.
        assert_eq!(names(&candidates(&keys, cutoff, at(20_000))), ["k1", "k0"]);
        // A pending key ranked below the sealing one still waits: kept.
        let keys = keys_made(&[Some(at(20_000)), None, None]);
        assert_eq!(names(&candidates(&keys, cutoff, now)), ["k1"]);
        // Only pending keys: none seals, nothing is offered.
        let keys = keys_made(&[Some(at(20_000))]);
        assert!(candidates(&keys, cutoff, now).is_empty());
    }

    #[test]
    fn every_key_an_item_needs_is_needed_whatever_the_status_says() {
        let (old, new) = (
            PrivateKey::generate(2048).expect("keygen"),
            PrivateKey::generate(2048).expect("keygen"),
        );
        let items: Map<String, String> = [sealed_item(&old, "a"), sealed_item(&new, "b")]
            .into_iter()
            .collect();
        // The controller recorded only the key that opened it last.
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"namespace": "apps", "name": "db"},
            "spec": {"encryptedData": items},
            "status": {"keyFingerprint": new.fingerprint().as_str()},
        }))
        .expect("object");
        let mut needs = Needs::default();
        needs.add(&object, &[&new, &old]);
        assert_eq!(needs.by_key[old.fingerprint().as_str()], ["apps/db"]);
        assert_eq!(needs.by_key[new.fingerprint().as_str()], ["apps/db"]);
        assert!(needs.unknown.is_empty());

        let broken: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"namespace": "apps", "name": "odd"},
            "spec": {"encryptedData": ["not", "a", "map"]},
        }))
        .expect("object");
        needs.add(&broken, &[&new, &old]);
        assert_eq!(needs.unknown.len(), 1);
        assert!(
            needs.unknown[0].starts_with("apps/odd ("),
            "{:?}",
            needs.unknown
        );
    }
}
