//! `kubeseal admin ...`: operating the controller rather than sealing: its
//! keys (list, rotate, backup, restore, prune) and re-encrypting files.
//!
//! The cluster flags (`--kubeconfig`, `--context`, `--controller-namespace`,
//! ...) are global, so they work before or after the subcommand.

mod backup;
mod crd;
mod keys;
mod prune;
mod reencrypt;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Result};

use crate::args::ClusterArgs;

#[derive(Debug, clap::Args)]
#[command(
    about = "Administer the sealed-secrets controller: its keys, and re-encrypting SealedSecret files",
    long_about = "Administer the sealed-secrets controller: its keys, and re-encrypting SealedSecret files.\n\n\
The controller is found with --controller-namespace (default kube-system) and --controller-name; \
the cluster with --kubeconfig, --context and the other kubectl flags, which may come before or after the subcommand.",
    disable_help_subcommand = true
)]
pub struct AdminArgs {
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AdminCommand {
    /// List, rotate, back up, restore and prune the controller's sealing keys
    Keys(KeysArgs),
    /// Re-encrypt SealedSecret files in place with the controller's newest key
    #[command(
        long_about = "Re-encrypt SealedSecret files in place with the controller's newest key.\n\n\
Walks the given files and directories (*.yaml, *.yml, *.json in directories; hidden directories and \
symbolic links are skipped). A file is rewritten, in its own format, only when every document in it is a \
SealedSecret; files holding other kinds are left untouched. Each SealedSecret goes through the \
controller's /v1/rotate endpoint (via the API server's service proxy): the controller must hold a key that \
opens it. Stops at the first failure; files already rewritten stay valid."
    )]
    Reencrypt(reencrypt::ReencryptArgs),
}

#[derive(Debug, clap::Args)]
struct KeysArgs {
    /// Prefix of the key Secrets' names, as the controller's --key-prefix; a Secret named exactly so is a legacy key
    #[arg(
        long,
        global = true,
        default_value = keys::DEFAULT_PREFIX,
        value_name = "PREFIX"
    )]
    key_prefix: String,
    /// How the controller orders its keys to pick the one that seals, as its --key-order-priority
    #[arg(
        long,
        global = true,
        default_value = "CertNotBefore",
        value_parser = ["CertNotBefore", "SecretCreationTimestamp"],
        value_name = "ORDER"
    )]
    key_order_priority: String,
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, clap::Subcommand)]
enum KeysCommand {
    /// List the key Secrets, which one seals, and how many SealedSecrets each still opens
    List(keys::ListArgs),
    /// Generate a new sealing key and store it as a key Secret; prints its certificate
    #[command(
        long_about = "Generate a new sealing key and store it as a key Secret in the controller's namespace; prints its certificate (PEM).\n\n\
A running controller picks the new key up without a restart and seals with it from then on \
(the newest certificate NotBefore wins). Older keys stay, so existing SealedSecrets still open."
    )]
    Rotate(keys::RotateArgs),
    /// Write every key Secret to a file (v1 List, mode 0600) for disaster recovery
    #[command(
        long_about = "Write every key Secret to a file for disaster recovery: a v1 List of Secrets, \
YAML unless the file name ends in .json, mode 0600, without server-side fields.\n\n\
The file holds private keys: keep it offline. It works with `kubeseal --recovery-unseal \
--recovery-private-key FILE` and with `kubeseal admin keys restore FILE`."
    )]
    Backup(backup::BackupArgs),
    /// Create key Secrets from a backup; keys already present are skipped, nothing is overwritten
    Restore(backup::RestoreArgs),
    /// Delete old keys no SealedSecret needs any more (dry run unless --yes)
    #[command(
        long_about = "Delete old keys that no SealedSecret needs any more. Dry run unless --yes.\n\n\
Candidates are keys whose certificate NotBefore is older than --older-than, except the newest key. \
A candidate is deleted only when no item of any SealedSecret needs it: each item is checked against the \
keys (only the RSA part holding its session key is decrypted, never the value), since items of one object \
may be sealed with different keys. A key still needed is refused, even with --force, and the SealedSecrets \
using it are named (re-encrypt them first). SealedSecrets that cannot be read as such could need any key: \
then nothing is deleted unless --force. Exits non-zero when something was refused."
    )]
    Prune(prune::PruneArgs),
}

pub fn run(args: AdminArgs, cluster: &ClusterArgs) -> Result<ExitCode> {
    match args.command {
        AdminCommand::Keys(keys_args) => {
            let ctx = keys::Context {
                cluster,
                namespace: cluster.controller_namespace.clone(),
                prefix: keys_args.key_prefix,
                order: sealed_secrets_api::keys::KeyOrder::parse(&keys_args.key_order_priority),
            };
            match keys_args.command {
                KeysCommand::List(a) => keys::list(&ctx, &a),
                KeysCommand::Rotate(a) => keys::rotate(&ctx, &a),
                KeysCommand::Backup(a) => backup::backup(&ctx, &a),
                KeysCommand::Restore(a) => backup::restore(&ctx, &a),
                KeysCommand::Prune(a) => prune::prune(&ctx, &a),
            }
        }
        AdminCommand::Reencrypt(a) => reencrypt::run(&a, cluster),
    }
}

/// Where a request went, for error messages: a namespace or the whole cluster.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Namespace(&'a str),
    Cluster,
}

/// Turns an API error into what happened and what to do about it.
/// `verb` and `resource` are RBAC terms (`list`, `secrets`).
fn api_error(err: kube::Error, verb: &str, resource: &str, scope: Scope<'_>) -> anyhow::Error {
    let (place, can_i) = match scope {
        Scope::Namespace(ns) => (format!("in namespace {ns:?}"), format!("-n {ns}")),
        Scope::Cluster => (
            "in all namespaces".to_string(),
            "--all-namespaces".to_string(),
        ),
    };
    let what = format!("cannot {verb} {resource} {place}");
    match &err {
        kube::Error::Api(s) if s.code == 403 => anyhow!(
            "{what}: forbidden ({}).\nYou need RBAC permission to `{verb} {resource}` {place}: ask a cluster admin, \
             check with `kubectl auth can-i {verb} {resource} {can_i}`, or use --context/--as for an account that has it",
            s.message
        ),
        kube::Error::Api(s) if s.code == 401 => anyhow!(
            "{what}: the API server rejected the credentials ({}): check --kubeconfig, --context, --token",
            s.message
        ),
        kube::Error::Api(s) if s.code == 404 && resource.starts_with("sealedsecrets") => anyhow!(
            "{what}: the SealedSecret CRD (sealedsecrets.bitnami.com) is not installed in this cluster ({})",
            s.message
        ),
        kube::Error::Api(s) => anyhow!("{what}: {} ({})", s.message, s.code),
        other => anyhow!("{what}: cannot reach the API server: {other}"),
    }
}

/// `--older-than`, `--key-ttl`: Go-style (`720h`, `90m`) or humantime (`30d`, `2w`, `1y`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(text).map_err(|e| format!("{e}; use e.g. 720h, 30d, 2w or 1y"))
}
