//! `kubeseal admin keys list` and `rotate`. Our controller records in each
//! SealedSecret's `status.keyFingerprint` the key that opened it, which
//! tells `list` how many SealedSecrets each key still opens. `list` shows
//! who holds each private key (the Secret in the clear, or a KMS) from the
//! Secrets alone: a wrapped key's certificate is in the clear. A key with
//! a future `activate-at` is pending: it opens SealedSecrets, the one before
//! it seals until then (`list` says which; `activate` moves the time).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context as _, Result};
use kube::api::{DynamicObject, PostParams};
use kube::Client;
use sealed_secrets_api::crypto::{Certificate, CertificateParams, PrivateKey, DEFAULT_KEY_BITS};
use serde_json::{json, Value};

use super::crd::{key_fingerprint_recording, Recording};
use super::duration::parse_duration;
use super::key_store::{
    connect, latest, load, new_key_secret, no_keys, rfc3339, sealing, secret_name, Context,
    KeySecret, State,
};
use super::scan::{each_sealed_secret, scanned, ScanArgs};
use crate::cluster::{api_error, block_on};
use crate::kms::KmsArgs;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub(super) struct ListArgs {
    /// Output format
    #[arg(short = 'o', long = "output", default_value = "table", value_parser = ["table", "json"])]
    output: String,
    #[command(flatten)]
    scan: ScanArgs,
}

#[derive(Debug, clap::Args)]
pub(super) struct RotateArgs {
    /// Size of the new key in bits (2048, 3072, 4096 or 8192), as the controller's --key-size
    #[arg(long, default_value_t = DEFAULT_KEY_BITS, value_parser = key_size, value_name = "BITS")]
    key_size: usize,
    /// Common name (issuer and subject) of the new certificate, as the controller's --my-cn
    #[arg(long, default_value = "", value_name = "CN")]
    my_cn: String,
    /// How long the new certificate is valid, as the controller's --key-ttl
    #[arg(long, default_value = "87600h", value_parser = parse_duration, value_name = "DURATION")]
    key_ttl: Duration,
    /// Create the key even though the namespace holds no key Secret yet
    #[arg(long)]
    force: bool,
    /// The new key opens SealedSecrets at once but seals only from this time (RFC 3339, e.g. 2025-07-01T12:00:00Z): the controller keeps serving the current key until then, so the new one can be backed up first
    #[arg(long, value_name = "TIME", value_parser = activation::future_time, conflicts_with = "activate_after")]
    activate_at: Option<SystemTime>,
    /// As --activate-at, this long from now, e.g. 72h, 3d
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    activate_after: Option<Duration>,
}

fn key_size(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(bits @ (2048 | 3072 | 4096 | 8192)) => Ok(bits),
        _ => Err("supported key sizes: 2048, 3072, 4096, 8192".into()),
    }
}

/// Which keys the SealedSecrets in the cluster still need, from `status.keyFingerprint`.
#[derive(Default)]
struct Usage {
    /// Fingerprint -> `namespace/name` of the SealedSecrets it opened last.
    by_key: BTreeMap<String, Vec<String>>,
    /// SealedSecrets whose key is unknown: no keyFingerprint, or a status
    /// older than their latest change.
    unknown: Vec<String>,
    total: usize,
}

impl Usage {
    fn add(&mut self, object: &DynamicObject) {
        let id = format!(
            "{}/{}",
            object.metadata.namespace.as_deref().unwrap_or_default(),
            object.metadata.name.as_deref().unwrap_or_default()
        );
        self.total += 1;
        let status = object.data.get("status");
        let fingerprint = status
            .and_then(|s| s.get("keyFingerprint"))
            .and_then(Value::as_str)
            .filter(|f| !f.is_empty());
        let observed = status
            .and_then(|s| s.get("observedGeneration"))
            .and_then(Value::as_i64);
        let stale = matches!((observed, object.metadata.generation), (Some(o), Some(g)) if o < g);
        match fingerprint {
            Some(fp) if !stale => self.by_key.entry(fp.to_string()).or_default().push(id),
            _ => self.unknown.push(id),
        }
    }

    fn count(&self, fingerprint: &str) -> usize {
        self.by_key.get(fingerprint).map_or(0, Vec::len)
    }

    /// SealedSecrets naming a key not among `keys` (another controller's, or a deleted one).
    fn elsewhere(&self, keys: &[KeySecret]) -> usize {
        self.by_key
            .iter()
            .filter(|(fp, _)| {
                !keys
                    .iter()
                    .any(|k| k.key.as_ref().is_ok_and(|k| &k.fingerprint == *fp))
            })
            .map(|(_, users)| users.len())
            .sum()
    }
}

/// Counts SealedSecrets per recorded key.
async fn scan(client: &Client, namespaces: &[String]) -> Result<Usage> {
    let mut usage = Usage::default();
    each_sealed_secret(client, namespaces, |object| usage.add(object)).await?;
    Ok(usage)
}

pub(super) fn list(ctx: &Context<'_>, args: &ListArgs) -> Result<ExitCode> {
    let namespaces = &args.scan.watched_namespaces;
    let (keys, usage, recording) = block_on(async {
        let (client, api) = connect(ctx).await?;
        let keys = load(&api, ctx).await?;
        if keys.is_empty() {
            return Err(no_keys(ctx));
        }
        // The keys are the answer; the counts only add to it.
        let usage = scan(&client, namespaces).await;
        let recording = key_fingerprint_recording(&client).await;
        Ok((keys, usage, recording))
    })?;
    let usage = match usage {
        Ok(usage) => Some(usage),
        Err(e) => {
            eprintln!(
                "warning: cannot count SealedSecrets per key: {}",
                crate::error::render(&e)
            );
            None
        }
    };
    // The CRD prunes the field: every count would be 0, which is not known.
    let counts = usage.as_ref().filter(|_| !recording.dropped());
    let now = SystemTime::now();
    let sealing_key = sealing(&keys, now);
    let mut out = String::new();
    if args.output == "json" {
        if recording.dropped() {
            eprintln!("warning: {}", super::crd::DROPPED);
        }
        let items: Vec<Value> = keys
            .iter()
            .map(|k| match &k.key {
                Ok(key) => json!({
                    "state": State::of(key, sealing_key, now).word(),
                    "activateAt": activation::json(&key.activation),
                    "secret": k.name,
                    "fingerprint": key.fingerprint,
                    "custody": if key.plain().is_some() { "plain" } else { "kms" },
                    "kmsKeyId": key.wrapped().map(|w| w.key_id.as_str()),
                    "created": rfc3339(key.not_before),
                    "expires": rfc3339(key.not_after),
                    "expired": key.certificate.is_expired_at(now),
                    "sealing": State::of(key, sealing_key, now) == State::Sealing,
                    "sealedSecrets": counts.map(|u| u.count(&key.fingerprint)),
                }),
                Err(reason) => json!({
                    "secret": k.name,
                    "fingerprint": null,
                    "sealing": false,
                    "state": null,
                    "error": reason,
                }),
            })
            .collect();
        let report = json!({
            "namespace": ctx.namespace,
            "keys": items,
            "scanned": if namespaces.is_empty() { json!("all") } else { json!(namespaces) },
            "totalSealedSecrets": usage.as_ref().map(|u| u.total),
            "unknownSealedSecrets": usage.as_ref().map(|u| u.unknown.len()),
            "otherKeySealedSecrets": counts.map(|u| u.elsewhere(&keys)),
            "keyFingerprintRecorded": match &recording {
                Recording::Kept => json!(true),
                Recording::Dropped => json!(false),
                Recording::Unknown(_) => Value::Null,
            },
        });
        output::render(&mut out, &report, Format::Json)?;
    } else {
        let mut rows = vec![[
            "NAME".to_string(),
            "FINGERPRINT".into(),
            "CUSTODY".into(),
            "CREATED".into(),
            "EXPIRES".into(),
            "STATE".into(),
            "SEALEDSECRETS".into(),
        ]];
        for k in &keys {
            rows.push(match &k.key {
                Ok(key) => [
                    k.name.clone(),
                    key.fingerprint.clone(),
                    key.custody_text(),
                    rfc3339(key.not_before),
                    if key.certificate.is_expired_at(now) {
                        format!("{} (expired)", rfc3339(key.not_after))
                    } else {
                        rfc3339(key.not_after)
                    },
                    State::of(key, sealing_key, now).text(key, now),
                    counts.map_or("?".into(), |u| u.count(&key.fingerprint).to_string()),
                ],
                Err(_) => [
                    k.name.clone(),
                    "<unreadable>".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ],
            });
        }
        let widths: Vec<usize> = (0..7)
            .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
            .collect();
        for row in &rows {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            out.push_str(line.join("   ").trim_end());
            out.push('\n');
        }
        for k in &keys {
            if let Err(reason) = &k.key {
                out.push_str(&format!(
                    "warning: secret {} is not a usable key: {reason}\n",
                    k.name
                ));
            }
        }
        if let Some(u) = &usage {
            out.push_str(&format!(
                "{} SealedSecret{} in {}",
                u.total,
                if u.total == 1 { "" } else { "s" },
                scanned(namespaces)
            ));
            if recording.dropped() {
                out.push_str(&format!("; {}\n", super::crd::DROPPED));
                output::Destination::Stdout.write(out.as_bytes())?;
                return Ok(ExitCode::SUCCESS);
            }
            out.push_str(&format!(
                "; unknown: {} (no status.keyFingerprint: {})",
                u.unknown.len(),
                recording.unknown_key_causes()
            ));
            let elsewhere = u.elsewhere(&keys);
            if elsewhere > 0 {
                out.push_str(&format!(
                    "; {elsewhere} opened by keys not in {} (another controller's, or deleted)",
                    ctx.namespace
                ));
            }
            out.push('\n');
        }
    }
    output::Destination::Stdout.write(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn rotate(ctx: &Context<'_>, kms: &KmsArgs, args: &RotateArgs) -> Result<ExitCode> {
    if args.key_ttl.is_zero() {
        bail!("--key-ttl must be longer than 0: it is how long the new certificate is valid");
    }
    let activate_at = match (args.activate_at, args.activate_after) {
        (Some(at), _) => Some(at),
        (None, Some(after)) if after.is_zero() => None,
        (None, Some(after)) => Some(SystemTime::now() + after),
        (None, None) => None,
    };
    let (name, key, certificate, latest_before, serving) = block_on(async {
        let (_, api) = connect(ctx).await?;
        // Reading the keys first checks the namespace and access before the slow key generation.
        let existing = load(&api, ctx).await?;
        if existing.is_empty() && !args.force {
            return Err(no_keys(ctx).context(
                "refusing to create a first key here: pass --force if this namespace is right",
            ));
        }
        let latest_before = latest(&existing).map(|k| k.not_before);
        let serving = sealing(&existing, SystemTime::now()).map(|k| k.fingerprint.clone());
        if activate_at.is_some() && serving.is_none() {
            bail!(
                "no key in {:?} seals now: a pending key would leave the controller without a certificate to serve until it activates; \
                 drop --activate-at/--activate-after to make a key that seals at once",
                ctx.namespace
            );
        }
        let annotations: Vec<(String, String)> = activate_at
            .map(sealed_secrets_api::keys::activate_at_annotation)
            .into_iter()
            .collect();
        // A controller with --kms-endpoint seals only with a key the KMS
        // wrapped: a plain one made beside wrapped keys would never seal.
        let kms = match kms.endpoint() {
            Some(_) => Some(kms.connect("wrapping the new key").await?),
            None if existing
                .iter()
                .any(|k| sealed_secrets_api::keys::wrapped::is_wrapped(&k.secret)) =>
            {
                bail!(
                "the keys in {:?} are wrapped by a KMS, and a controller with --kms-endpoint seals only with such a key: \
                 pass --kms-endpoint unix:///PATH (the plugin's socket, as the controller's) to wrap the new one",
                ctx.namespace
            )
            }
            None => None,
        };
        let key = PrivateKey::generate(args.key_size).context("cannot generate the key")?;
        // Within the second of the newest key the new one could rank below it.
        let ranks = existing
            .iter()
            .filter_map(|k| k.key.as_ref().ok().map(|k| &k.rank));
        tokio::time::sleep(sealed_secrets_api::keys::wait_to_rank_above(
            ranks,
            SystemTime::now(),
        ))
        .await;
        let params = CertificateParams {
            common_name: args.my_cn.clone(),
            not_before: SystemTime::now(),
            valid_for: args.key_ttl,
        };
        let certificate =
            Certificate::self_signed(&key, &params).context("cannot make the certificate")?;
        let secret = match &kms {
            None => new_key_secret(ctx, &key, &certificate, &annotations)?,
            Some(kms) => sealed_secrets_api::keys::wrapped::wrapped_key_secret(
                &ctx.namespace,
                &ctx.prefix,
                &kms.wrap(&key, &certificate).await?,
                &[],
                &annotations,
            ),
        };
        let created = api
            .create(&PostParams::default(), &secret)
            .await
            .map_err(|e| api_error(e, "create", "secrets", ctx.place()))?;
        Ok((
            secret_name(&created),
            key,
            certificate,
            latest_before,
            serving,
        ))
    })?;
    output::Destination::Stdout.write(certificate.to_pem().as_bytes())?;
    match activate_at {
        None => eprintln!(
            "created key Secret {}/{name} ({}, valid until {}). A running controller seals with it as soon as it sees the Secret; \
             SealedSecrets sealed with older keys still open.",
            ctx.namespace,
            key.fingerprint(),
            rfc3339(certificate.not_after())
        ),
        Some(at) => eprintln!(
            "created key Secret {}/{name} ({}, valid until {}), pending until {}: the controller keeps serving {} until then \
             (it opens SealedSecrets sealed with the new key at once). Back it up now: kubeseal admin keys backup -o keys.yaml",
            ctx.namespace,
            key.fingerprint(),
            rfc3339(certificate.not_after()),
            sealed_secrets_api::keys::format_activate_at(at),
            serving.as_deref().unwrap_or("the current key"),
        ),
    }
    if latest_before.is_some_and(|t| t >= certificate.not_before()) {
        eprintln!(
            "warning: an existing key's certificate starts at the same time or later ({}): the controller may keep sealing with it. Is this machine's clock behind?",
            latest_before.map(rfc3339).unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) mod activation;
#[cfg(test)]
mod tests;
