//! `kubeseal admin keys backup` and `restore`: every key Secret to one file
//! (mode 0600), and back into the cluster without overwriting anything.
//! KMS-wrapped key Secrets go both ways as they are: neither needs the KMS.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context as _, Result};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::PostParams;
use sealed_secrets_api::keys::wrapped::{is_wrapped, LABEL_VALUE, SECRET_TYPE};
use sealed_secrets_api::keys::{KEY_LABEL, KEY_LABEL_ACTIVE};
use serde_json::{json, Value};

use super::key_store::{connect, load, no_keys, parse_key, secret_name, Context};
use crate::cluster::{api_error, block_on};
use crate::output::{self, Format};
use crate::recovery::secrets_in;

#[derive(Debug, clap::Args)]
pub(crate) struct BackupArgs {
    /// File to write: YAML, or JSON when the name ends in .json. Created with mode 0600
    #[arg(short = 'o', long = "output", value_name = "FILE", required = true)]
    output: PathBuf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RestoreArgs {
    /// A backup from `kubeseal admin keys backup` (a v1 List of Secrets), or Secret documents (YAML or JSON)
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

fn backup_item(secret: &Secret) -> Result<Value> {
    let mut value = serde_json::to_value(secret).context("cannot encode a key Secret")?;
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "managedFields",
            "ownerReferences",
            "selfLink",
            "generation",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            meta.remove(field);
        }
    }
    if let Some(object) = value.as_object_mut() {
        object.insert("apiVersion".into(), "v1".into());
        object.insert("kind".into(), "Secret".into());
    }
    Ok(value)
}

pub(crate) fn backup(ctx: &Context<'_>, args: &BackupArgs) -> Result<ExitCode> {
    if args.output.as_os_str() == "-" {
        bail!("backup writes private keys only to a file: give -o FILE");
    }
    let keys = block_on(async {
        let (_, api) = connect(ctx).await?;
        load(&api, ctx).await
    })?;
    if keys.is_empty() {
        return Err(no_keys(ctx));
    }
    let mut items = Vec::new();
    let mut wrapped = BTreeSet::new();
    for k in &keys {
        match &k.key {
            Ok(key) => {
                // A wrapped key goes as it is: nothing in it opens without the KMS.
                if let Some(w) = key.wrapped() {
                    wrapped.insert((k.name.clone(), w.key_id.clone()));
                }
                items.push(backup_item(&k.secret)?)
            }
            Err(reason) => eprintln!(
                "warning: not backing up secret {}: not a usable key ({reason})",
                k.name
            ),
        }
    }
    if items.is_empty() {
        bail!(
            "none of the key Secrets in {:?} holds a usable key: nothing written",
            ctx.namespace
        );
    }
    let count = items.len();
    let list = json!({ "apiVersion": "v1", "kind": "List", "items": items });
    let format = match args.output.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
        _ => Format::Yaml,
    };
    let mut out = String::new();
    output::render(&mut out, &list, format)?;
    output::write_private(&args.output, out.as_bytes())?;
    println!(
        "backed up {count} key Secret{} from {} to {} ({})",
        if count == 1 { "" } else { "s" },
        ctx.namespace,
        args.output.display(),
        custody_summary(count, &wrapped)
    );
    Ok(ExitCode::SUCCESS)
}

/// What a backup of `count` keys, `wrapped` of them KMS-wrapped (name,
/// KMS key_id), holds, for people.
fn custody_summary(count: usize, wrapped: &BTreeSet<(String, String)>) -> String {
    let key_ids: BTreeSet<&str> = wrapped.iter().map(|(_, id)| id.as_str()).collect();
    let key_ids = key_ids.into_iter().collect::<Vec<_>>().join(", ");
    match wrapped.len() {
        0 => "mode 0600: it holds private keys, keep it safe".into(),
        n if n == count => format!(
            "all {n} KMS-wrapped (KMS key_id {key_ids}): it holds no private key in the clear, and using it \
             needs the KMS (--kms-endpoint)"
        ),
        n => format!(
            "mode 0600: {} plain ones hold private keys, keep it safe; {n} are KMS-wrapped (KMS key_id {key_ids}) \
             and need the KMS (--kms-endpoint) to be used",
            count - n
        ),
    }
}

/// `secret` as a new key Secret in the controller's namespace, labelled as
/// what it holds: a plain or a KMS-wrapped key.
fn restored(ctx: &Context<'_>, secret: &Secret) -> Secret {
    let wrapped = is_wrapped(secret);
    let mut labels = secret.metadata.labels.clone().unwrap_or_default();
    labels.insert(
        KEY_LABEL.into(),
        if wrapped {
            LABEL_VALUE
        } else {
            KEY_LABEL_ACTIVE
        }
        .into(),
    );
    let name = secret.metadata.name.clone().filter(|n| !n.is_empty());
    Secret {
        metadata: ObjectMeta {
            generate_name: name.is_none().then(|| ctx.prefix.clone()),
            name,
            namespace: Some(ctx.namespace.clone()),
            labels: Some(labels),
            annotations: secret.metadata.annotations.clone(),
            ..ObjectMeta::default()
        },
        type_: Some(secret.type_.clone().unwrap_or_else(|| {
            if wrapped {
                SECRET_TYPE
            } else {
                "kubernetes.io/tls"
            }
            .into()
        })),
        data: secret.data.clone(),
        ..Secret::default()
    }
}

pub(crate) fn restore(ctx: &Context<'_>, args: &RestoreArgs) -> Result<ExitCode> {
    let file = args.file.display();
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read backup file {file}"))?;
    let secrets =
        secrets_in(&text).with_context(|| format!("cannot read key Secrets from {file}"))?;
    if secrets.is_empty() {
        bail!("{file} holds no Secrets: expected a backup from `kubeseal admin keys backup` (a v1 List of Secrets) or Secret documents");
    }
    // Every key must be usable before anything is created.
    let mut incoming = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let key = parse_key(&secret, ctx.order).map_err(|reason| {
            anyhow!(
                "{file}: secret {} is not a sealing key: {reason}; nothing was restored",
                secret_name(&secret)
            )
        })?;
        incoming.push((secret, key));
    }
    block_on(async {
        let (_, api) = connect(ctx).await?;
        let mut present: BTreeMap<String, String> = load(&api, ctx)
            .await?
            .into_iter()
            .filter_map(|k| k.key.ok().map(|key| (key.fingerprint, k.name)))
            .collect();
        let (mut created, mut skipped) = (0, 0);
        for (secret, key) in &incoming {
            let name = secret_name(secret);
            if let Some(existing) = present.get(&key.fingerprint) {
                println!(
                    "skipped {name}: key {} is already present as {}/{existing}",
                    key.fingerprint, ctx.namespace
                );
                skipped += 1;
                continue;
            }
            let new = restored(ctx, secret);
            let result = match api.create(&PostParams::default(), &new).await {
                // Its name is taken by some other Secret: never overwrite, take a fresh name.
                Err(kube::Error::Api(s)) if s.code == 409 && new.metadata.name.is_some() => {
                    let mut renamed = new.clone();
                    renamed.metadata.name = None;
                    renamed.metadata.generate_name = Some(ctx.prefix.clone());
                    api.create(&PostParams::default(), &renamed).await
                }
                other => other,
            };
            let made = result.map_err(|e| {
                api_error(e, "create", "secrets", ctx.place()).context(format!(
                    "cannot restore {name} ({created} created before this failure)"
                ))
            })?;
            let made_name = secret_name(&made);
            let renamed = if made_name != name {
                format!(" (the name {name} was taken)")
            } else {
                String::new()
            };
            let custody = match key.wrapped() {
                Some(w) => format!(", KMS-wrapped with KMS key_id {}", w.key_id),
                None => String::new(),
            };
            println!(
                "created {}/{made_name} ({}{custody}){renamed}",
                ctx.namespace, key.fingerprint
            );
            present.insert(key.fingerprint.clone(), made_name);
            created += 1;
        }
        println!(
            "{created} created, {skipped} skipped (already present) in {}",
            ctx.namespace
        );
        if created > 0 {
            println!("a running controller picks up new key Secrets by itself; if it was started without any key, restart it");
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_are_lists_secrets_or_documents() {
        let one = "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {x: eQ==}\n";
        assert_eq!(secrets_in(one).expect("secret").len(), 1);
        let docs = format!("---\n{one}---\n{}", one.replace("name: a", "name: b"));
        assert_eq!(secrets_in(&docs).expect("documents").len(), 2);
        let list = r#"{"apiVersion":"v1","kind":"List","items":[{"kind":"Secret","metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"#;
        let names: Vec<String> = secrets_in(list)
            .expect("list")
            .iter()
            .map(secret_name)
            .collect();
        assert_eq!(names, ["a", "b"]);
        let err = secrets_in(r#"{"kind":"List","items":[{"kind":"ConfigMap"}]}"#)
            .expect_err("not a Secret");
        assert!(
            err.to_string()
                .contains("document 1, item 1 is a ConfigMap"),
            "{err}"
        );
    }

    #[test]
    fn backup_items_lose_server_fields_only() {
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {"name": "k", "namespace": "ns", "uid": "u", "resourceVersion": "1",
                "creationTimestamp": "2024-01-01T00:00:00Z", "managedFields": [{"manager": "m"}],
                "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "p"}],
                "labels": {"l": "v"}},
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": "eA=="},
        }))
        .expect("secret");
        let item = backup_item(&secret).expect("item");
        assert_eq!(
            item["metadata"],
            json!({"name": "k", "namespace": "ns", "labels": {"l": "v"}})
        );
        assert_eq!(item["kind"], "Secret");
        assert_eq!(item["apiVersion"], "v1");
        assert_eq!(item["data"]["tls.crt"], "eA==");
    }
}
