//! `kubeseal admin ...`: operating the controller rather than sealing: its
//! keys (list, rotate, backup, restore, prune) and re-encrypting files.
//!
//! The cluster flags (`--kubeconfig`, `--context`, `--controller-namespace`,
//! ...) and the KMS flags (`--kms-endpoint`, `--kms-timeout`) are global, so
//! they work before or after the subcommand.

mod backup;
mod crd;
mod custody;
mod duration;
mod key_store;
mod keys;
mod prune;
mod reencrypt;
mod scan;

use std::process::ExitCode;

use anyhow::Result;

use crate::cluster::ClusterArgs;
use crate::kms::KmsArgs;

#[derive(Debug, clap::Args)]
#[command(
    about = "Administer the sealed-secrets controller: its keys, and re-encrypting SealedSecret files",
    long_about = "Administer the sealed-secrets controller: its keys, and re-encrypting SealedSecret files.\n\n\
The controller is found with --controller-namespace (default kube-system) and --controller-name; \
the cluster with --kubeconfig, --context and the other kubectl flags, which may come before or after the subcommand. \
KMS-wrapped keys are used through the KMS v2 plugin given with --kms-endpoint (only the commands that need their private keys reach it).",
    disable_help_subcommand = true
)]
pub(crate) struct AdminArgs {
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AdminCommand {
    /// List, rotate, back up, restore, prune, wrap and unwrap the controller's sealing keys
    Keys(KeysArgs),
    /// Re-encrypt SealedSecret files in place with the controller's newest key
    #[command(
        long_about = "Re-encrypt SealedSecret files in place with the controller's newest key.\n\n\
Walks the given files and directories (*.yaml, *.yml, *.json in directories; hidden directories and \
symbolic links are skipped). A file is rewritten, in its own format, only when every document in it is a \
SealedSecret; files holding other kinds are left untouched. Each SealedSecret goes through the \
controller's /v1/rotate endpoint (via the API server's service proxy): the controller must hold a key that \
opens it. Stops at the first failure; files already rewritten stay valid.\n\n\
With --recovery-private-key KEYS --cert NEW, files are re-sealed here with no cluster.\n\n\
Under a .sealed-secrets.yaml (docs/layout.md; found by walking up from each file, or --layout FILE), \
with no --cert, each file is re-sealed for the cluster its folder maps to, and only when it needs it: with \
--recovery-private-key here, with that cluster's certificate, when some item opens with a key given other \
than that cluster's; without, through that cluster's own controller (the layout's context, \
controller_namespace, controller_name), after checking that every such controller seals with the key of the \
layout's certificate, when the file does not record (sealed-with) exactly that key. Break-glass copies are \
then skipped. One line per file (reencrypted, up to date, skipped). Every file is decided before the first \
is written; a file that cannot be done stops the run with nothing written. --dry-run lists what would change."
    )]
    Reencrypt(reencrypt::ReencryptArgs),
}

#[derive(Debug, clap::Args)]
struct KeysArgs {
    /// Prefix of the key Secrets' names, as the controller's --key-prefix; a Secret named exactly so is a legacy key
    #[arg(
        long,
        global = true,
        default_value = key_store::DEFAULT_PREFIX,
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
    /// List the key Secrets, their state (sealing, active, pending until a time), who holds each private key (plain or a KMS), and how many SealedSecrets each still opens
    List(keys::ListArgs),
    /// Generate a new sealing key and store it as a key Secret; prints its certificate
    #[command(
        long_about = "Generate a new sealing key and store it as a key Secret in the controller's namespace; prints its certificate (PEM).\n\n\
A running controller picks the new key up without a restart and seals with it from then on \
(the newest certificate NotBefore wins). Older keys stay, so existing SealedSecrets still open.\n\n\
With --activate-at or --activate-after the new key is pending: the controller opens SealedSecrets sealed with it \
at once (for instance with the printed certificate), but keeps serving the current key from /v1/cert.pem until then, \
so the new key can be backed up before anything depends on it. `kubeseal admin keys activate` moves the time."
    )]
    Rotate(keys::RotateArgs),
    /// Make a pending key active now (or at --at TIME)
    #[command(
        long_about = "Make a pending key (one with a future sealedsecrets.bitnami.com/activate-at annotation, \
from `rotate --activate-at/--activate-after` or the controller's --key-activation-delay) active now, or move its \
activation to --at TIME. A running controller follows without a restart: the newest active key seals. \
Refused for a key that is active already (but one whose activate-at is not a time may be fixed this way)."
    )]
    Activate(keys::activation::ActivateArgs),
    /// Write every key Secret to a file (v1 List, mode 0600) for disaster recovery
    #[command(
        long_about = "Write every key Secret to a file for disaster recovery: a v1 List of Secrets, \
YAML unless the file name ends in .json, mode 0600, without server-side fields.\n\n\
The file holds the plain keys' private keys: keep it offline. KMS-wrapped key Secrets are written as they are: \
they hold no private key in the clear and are useless without the KMS. It works with `kubeseal --recovery-unseal \
--recovery-private-key FILE` (wrapped keys with --kms-endpoint) and with `kubeseal admin keys restore FILE`."
    )]
    Backup(backup::BackupArgs),
    /// Create key Secrets from a backup; keys already present are skipped, nothing is overwritten
    Restore(backup::RestoreArgs),
    /// Delete old keys no SealedSecret needs any more (dry run unless --yes)
    #[command(
        long_about = "Delete old keys that no SealedSecret needs any more. Dry run unless --yes.\n\n\
Candidates are keys whose certificate NotBefore is older than --older-than and that rank below the key that seals; \
never the sealing key nor a key still waiting for its activation time. \
A candidate is deleted only when no item of any SealedSecret needs it: each item is checked against the \
keys (only the RSA part holding its session key is decrypted, never the value), since items of one object \
may be sealed with different keys. A key still needed is refused, even with --force, and the SealedSecrets \
using it are named (re-encrypt them first). SealedSecrets that cannot be read as such could need any key: \
then nothing is deleted unless --force. Telling whether a KMS-wrapped candidate is needed takes its private key: \
then --kms-endpoint is needed. Exits non-zero when something was refused."
    )]
    Prune(prune::PruneArgs),
    /// Move plain keys into KMS-wrapped key Secrets (needs --kms-endpoint); each plain Secret is deleted only once its wrapped copy is verified
    #[command(
        long_about = "Move every plain key Secret into a KMS-wrapped one: the private key sealed under a data key \
that the KMS v2 plugin (--kms-endpoint) encrypts; the certificate stays in the clear. The controller must run with \
the same --kms-endpoint to use them.\n\n\
Per key: a new wrapped Secret (same extra labels and annotations, and the key's first creation time so its rank \
does not move) is created, read back from the API server and unwrapped through the KMS; only when it holds exactly \
the same private key is the plain Secret deleted (if it is unchanged since it was read). Safe to interrupt at any \
point and to run again: a key already wrapped is verified and its plain Secret deleted, never wrapped twice. \
Refused when the KMS is not reachable. One line per key."
    )]
    Wrap(custody::CustodyArgs),
    /// Move KMS-wrapped keys back into plain key Secrets (needs --kms-endpoint), as the reference controller reads them
    #[command(
        long_about = "Move every KMS-wrapped key Secret back into a plain one (type kubernetes.io/tls, labelled active, \
tls.key in the clear), as the reference controller and a controller without --kms-endpoint read them: to leave \
the KMS, or go back to the reference.\n\n\
The same steps as wrap the other way: create, read back, verify it is the same private key, then delete the \
wrapped Secret. Safe to interrupt and run again. Refused when the KMS is not reachable. One line per key."
    )]
    Unwrap(custody::CustodyArgs),
}

pub(crate) fn run(args: AdminArgs, cluster: &ClusterArgs, kms: &KmsArgs) -> Result<ExitCode> {
    match args.command {
        AdminCommand::Keys(keys_args) => {
            let ctx = key_store::Context {
                cluster,
                namespace: cluster.controller_namespace.clone(),
                prefix: keys_args.key_prefix,
                order: sealed_secrets_api::keys::KeyOrder::parse(&keys_args.key_order_priority),
            };
            match keys_args.command {
                KeysCommand::List(a) => keys::list(&ctx, &a),
                KeysCommand::Rotate(a) => keys::rotate(&ctx, kms, &a),
                KeysCommand::Activate(a) => keys::activation::activate(&ctx, &a),
                KeysCommand::Backup(a) => backup::backup(&ctx, &a),
                KeysCommand::Restore(a) => backup::restore(&ctx, &a),
                KeysCommand::Prune(a) => prune::prune(&ctx, kms, &a),
                KeysCommand::Wrap(a) => custody::wrap(&ctx, kms, &a),
                KeysCommand::Unwrap(a) => custody::unwrap(&ctx, kms, &a),
            }
        }
        AdminCommand::Reencrypt(a) => reencrypt::run(&a, cluster, kms),
    }
}
