use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Parser;
use sealed_secrets_api::crypto::Scope;

use crate::cluster::ClusterArgs;
use crate::kms::KmsArgs;

// Every `bool` flag is a Go pflag boolean (`--flag`, `--flag=true|false`,
// `SEALED_SECRETS_FLAG=true`): `mut_args = crate::pflag::booleans` on each
// struct of flags, see pflag.rs.

#[derive(Debug, Parser)]
#[command(
    name = "kubeseal",
    about = "Seal a Kubernetes Secret so that only the cluster's sealed-secrets controller can open it.",
    long_about = "Reads a Secret (JSON or YAML, several documents allowed) from stdin or -f, \
and writes SealedSecrets, safe to commit to Git, to stdout or -w.\n\n\
Every flag can also be set in the environment as SEALED_SECRETS_<FLAG_NAME>, e.g. SEALED_SECRETS_CERT.",
    disable_version_flag = true,
    // As pflag: a flag given twice takes the last value (lists still add up).
    args_override_self = true,
    max_term_width = 100,
    mut_args = crate::pflag::booleans
)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) seal: SealArgs,
    #[command(flatten)]
    pub(crate) modes: ModeArgs,
    #[command(flatten)]
    pub(crate) cluster: ClusterArgs,
    #[command(flatten)]
    pub(crate) kms: KmsArgs,
    /// Administration: `kubeseal admin keys ...`, `kubeseal admin reencrypt ...`
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    /// Print version information and exit
    #[arg(long, env = "SEALED_SECRETS_VERSION")]
    pub(crate) version: bool,
}

/// Subcommands beside the reference-compatible flags.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Administer the controller: list, rotate, back up, restore and prune its keys; re-encrypt SealedSecret files
    Admin(crate::admin::AdminArgs),
}

#[derive(Debug, clap::Args)]
#[command(mut_args = crate::pflag::booleans)]
pub(crate) struct SealArgs {
    /// Certificate / public key file/URL to use for encryption. Overrides --controller-*. Repeat it to seal for several clusters in one run: one SealedSecret per certificate, NAME= names the cluster (else the file's name), -w/--merge-into then need {cluster} in the path
    #[arg(
        long,
        env = "SEALED_SECRETS_CERT",
        value_name = "[NAME=]FILE|URL",
        action = clap::ArgAction::Append
    )]
    pub(crate) cert: Vec<String>,
    /// The layout file mapping folders to clusters (.sealed-secrets.yaml, docs/layout.md): with -w, --merge-into or --re-encrypt and no --cert, the output file's folder chooses the certificate. Found by walking up from the output file when not given; empty to ignore any
    #[arg(long, env = "SEALED_SECRETS_LAYOUT", value_name = "FILE")]
    pub(crate) layout: Option<String>,
    /// Output format for sealed secret. Either json or yaml [default: json]
    #[arg(short = 'o', long, env = "SEALED_SECRETS_FORMAT", value_parser = ["json", "yaml"], ignore_case = true)]
    pub(crate) format: Option<String>,
    /// Sealed-secret (output) file; a .yaml/.yml name implies -o yaml
    #[arg(
        short = 'w',
        long = "sealed-secret-file",
        env = "SEALED_SECRETS_SEALED_SECRET_FILE"
    )]
    pub(crate) output_file: Option<PathBuf>,
    /// Secret (input) file
    #[arg(short = 'f', long = "secret-file", env = "SEALED_SECRETS_SECRET_FILE")]
    pub(crate) input_file: Option<PathBuf>,
    /// Allow empty data in the secret object
    #[arg(long, env = "SEALED_SECRETS_ALLOW_EMPTY_DATA")]
    pub(crate) allow_empty_data: bool,
    /// Merge items from secret into an existing sealed secret file, updating the file in-place instead of writing to stdout.
    #[arg(long, env = "SEALED_SECRETS_MERGE_INTO", value_name = "FILE")]
    pub(crate) merge_into: Option<PathBuf>,
    /// Encrypt a raw value passed via the --from-* flags instead of the whole secret object
    #[arg(long, env = "SEALED_SECRETS_RAW")]
    pub(crate) raw: bool,
    /// Name of the sealed secret (required with --raw and default (strict) scope)
    #[arg(long, env = "SEALED_SECRETS_NAME")]
    pub(crate) name: Option<String>,
    /// (only with --raw) Secret items can be sourced from files. Pro-tip: you can use /dev/stdin to read pipe input. This flag tries to follow the same syntax as in kubectl
    #[arg(
        long,
        env = "SEALED_SECRETS_FROM_FILE",
        value_delimiter = ',',
        value_name = "[KEY=]FILE"
    )]
    pub(crate) from_file: Vec<String>,
    /// Set the scope of the sealed secret: strict, namespace-wide, cluster-wide (defaults to strict). Mandatory for --raw, otherwise the 'sealedsecrets.bitnami.com/cluster-wide' and 'sealedsecrets.bitnami.com/namespace-wide' annotations on the input secret can be used to select the scope.
    #[arg(long, env = "SEALED_SECRETS_SCOPE", default_value = "strict", value_parser = scope_parser())]
    pub(crate) scope: Scope,
}

/// `--scope`, parsed once: the reference's three names, listed in `--help`.
fn scope_parser() -> impl TypedValueParser<Value = Scope> {
    PossibleValuesParser::new(["strict", "namespace-wide", "cluster-wide"])
        .try_map(|name| name.parse::<Scope>())
}

#[derive(Debug, clap::Args)]
#[command(mut_args = crate::pflag::booleans)]
pub(crate) struct ModeArgs {
    /// Write certificate to stdout. Useful for later use with --cert
    #[arg(long, env = "SEALED_SECRETS_FETCH_CERT")]
    pub(crate) fetch_cert: bool,
    /// Print the address of the controller's sealing page (controller flag --web-ui) through `kubectl proxy` on its default port, after checking that the controller serves it.
    #[arg(long = "open-ui", env = "SEALED_SECRETS_OPEN_UI")]
    pub(crate) open_ui: bool,
    /// Validate that the sealed secret can be decrypted
    #[arg(long, env = "SEALED_SECRETS_VALIDATE")]
    pub(crate) validate: bool,
    /// Re-encrypt the given sealed secret to use the latest cluster key.
    #[arg(
        long = "re-encrypt",
        visible_alias = "rotate",
        env = "SEALED_SECRETS_RE_ENCRYPT"
    )]
    pub(crate) re_encrypt: bool,
    /// Decrypt a sealed secrets file obtained from stdin, using the private key passed with --recovery-private-key. Intended to be used in disaster recovery mode.
    #[arg(long, env = "SEALED_SECRETS_RECOVERY_UNSEAL")]
    pub(crate) recovery_unseal: bool,
    /// Private key filename used by the --recovery-unseal command. Multiple files accepted either via comma separated list or by repetition of the flag. Either PEM encoded private keys or a backup of a json/yaml encoded k8s sealed-secret controller secret (and v1.List) are accepted. KMS-wrapped key Secrets in a backup need --kms-endpoint.
    #[arg(
        long,
        env = "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
        value_delimiter = ',',
        value_name = "FILE"
    )]
    pub(crate) recovery_private_key: Vec<PathBuf>,
}
