//! `kubeseal admin keys activate`, and the activation times the other
//! `keys` commands take and show. A pending key (a future `activate-at`)
//! opens SealedSecrets but does not seal until its time, so it can be
//! backed up before anything depends on it.

use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{bail, Result};
use kube::api::{Patch, PatchParams};
use sealed_secrets_api::keys::{
    format_activate_at, parse_activate_at, sealing_index, Activation, ACTIVATE_AT_ANNOTATION,
};
use serde_json::{json, Value};

use super::super::key_store::{connect, load, no_keys, Context, KeySecret};
use crate::cluster::{api_error, block_on};

#[derive(Debug, clap::Args)]
pub(in crate::admin) struct ActivateArgs {
    /// The key Secret's name, or the key's fingerprint (SHA256:..., as `keys list` shows it)
    #[arg(value_name = "NAME|FINGERPRINT")]
    key: String,
    /// Activate at this time instead of now (RFC 3339, e.g. 2025-07-01T12:00:00Z)
    #[arg(long, value_name = "TIME", value_parser = future_time)]
    at: Option<SystemTime>,
}

/// An activation time given on the command line: RFC 3339, not past.
pub(in crate::admin) fn future_time(text: &str) -> Result<SystemTime, String> {
    let at = parse_activate_at(text).ok_or_else(|| {
        format!("{text:?} is not an RFC 3339 time: use e.g. 2025-07-01T12:00:00Z")
    })?;
    if at <= SystemTime::now() {
        return Err(format!(
            "{text} is in the past: drop it to activate at once"
        ));
    }
    Ok(at)
}

/// The `activateAt` of `keys list -o json`: the annotation's time, its text
/// when it is not a time, `null` without one.
pub(in crate::admin) fn json(activation: &Activation) -> Value {
    match activation {
        Activation::Immediate => Value::Null,
        Activation::At(at) => json!(format_activate_at(*at)),
        Activation::Invalid(text) => json!(text),
    }
}

pub(in crate::admin) fn activate(ctx: &Context<'_>, args: &ActivateArgs) -> Result<ExitCode> {
    let message = block_on(async {
        let (_, api) = connect(ctx).await?;
        let keys = load(&api, ctx).await?;
        if keys.is_empty() {
            return Err(no_keys(ctx));
        }
        let now = SystemTime::now();
        let Some((chosen, key)) = keys.iter().find_map(|k| {
            let key = k.key.as_ref().ok()?;
            (k.name == args.key || key.fingerprint == args.key).then_some((k, key))
        }) else {
            bail!(
                "no key Secret in {:?} is named {:?} or has that fingerprint: see `kubeseal admin keys list`",
                ctx.namespace,
                args.key
            );
        };
        // An activate-at that is not a time counts as active, but may be fixed here.
        let invalid = matches!(key.activation, Activation::Invalid(_));
        if key.activation.pending_until(now).is_none() && !invalid {
            bail!(
                "key Secret {} ({}) is active already: only a pending key (a future activate-at) can be activated",
                chosen.name,
                key.fingerprint
            );
        }
        let value = args.at.map(format_activate_at);
        // The resourceVersion makes it refuse a key Secret changed since it was read.
        let patch = json!({
            "metadata": {
                "resourceVersion": chosen.secret.metadata.resource_version,
                "annotations": { ACTIVATE_AT_ANNOTATION: value },
            }
        });
        api.patch(&chosen.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| api_error(e, "patch", "secrets", ctx.place()))?;
        let activation = args.at.map_or(Activation::Immediate, Activation::At);
        Ok(match args.at {
            Some(at) => format!(
                "key Secret {}/{} ({}) now activates at {}",
                ctx.namespace,
                chosen.name,
                key.fingerprint,
                format_activate_at(at)
            ),
            None => format!(
                "key Secret {}/{} ({}) is active: {}",
                ctx.namespace,
                chosen.name,
                key.fingerprint,
                if seals_once_active(&keys, chosen, &activation, now) {
                    "a running controller seals with it as soon as it sees the change"
                } else {
                    "it opens SealedSecrets, but a newer active key seals"
                }
            ),
        })
    })?;
    println!("{message}");
    Ok(ExitCode::SUCCESS)
}

/// Whether `chosen`, with `activation`, is the key that seals at `now`.
fn seals_once_active(
    keys: &[KeySecret],
    chosen: &KeySecret,
    activation: &Activation,
    now: SystemTime,
) -> bool {
    let ranked = keys.iter().map(|k| {
        let key = k.key.as_ref().ok()?;
        Some(if std::ptr::eq(k, chosen) {
            activation
        } else {
            &key.activation
        })
    });
    sealing_index(ranked, now).is_some_and(|i| keys.get(i).is_some_and(|k| std::ptr::eq(k, chosen)))
}
