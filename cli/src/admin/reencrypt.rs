//! `kubeseal admin reencrypt PATH...`: rewrites SealedSecret files in place
//! with the controller's newest key, through its `/v1/rotate` endpoint; or,
//! with `--recovery-private-key KEYS --cert NEW`, here without a cluster;
//! or, under a `.sealed-secrets.yaml`, each for its own cluster, with its
//! certificate and the keys given or through its controller ([`by_layout`]).

mod by_layout;
mod files;
mod freshness;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{bail, Context as _, Result};
use sealed_secrets_api::crypto::{KeyRing, PublicKey};

use crate::cluster::{block_on, ClusterArgs, Controller, Verdict};
use crate::kms::KmsArgs;
use crate::output;
use files::{collect, describe, inspect, replace_ciphertexts, Contents, Found};

#[derive(Debug, clap::Args)]
pub(crate) struct ReencryptArgs {
    /// SealedSecret files, or directories to walk for *.yaml, *.yml and *.json
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// Re-seal here, with no cluster: the private keys that open the files (PEM files, or a backup of the key Secrets; KMS-wrapped ones with --kms-endpoint). Needs --cert, except under a .sealed-secrets.yaml (each file to its cluster's certificate); without it there, each cluster's controller re-seals its files
    #[arg(long, value_delimiter = ',', value_name = "FILE")]
    recovery_private_key: Vec<PathBuf>,
    /// With --recovery-private-key: the certificate to seal to (file or URL); without it, under a .sealed-secrets.yaml, each file's cluster's certificate
    #[arg(long, value_name = "FILE|URL")]
    cert: Option<String>,
    /// The layout file mapping folders to clusters (.sealed-secrets.yaml, docs/layout.md): each file's folder chooses its cluster's certificate. Found by walking up from each file when not given; empty to ignore any
    #[arg(long, env = "SEALED_SECRETS_LAYOUT", value_name = "FILE")]
    layout: Option<String>,
    /// Say what would be re-encrypted and write nothing
    #[arg(long)]
    dry_run: bool,
}

/// Where the new ciphertexts come from.
enum Resealer {
    /// The controller's `/v1/rotate` (its newest key), connected on first use.
    Controller(Option<Controller>),
    /// Here: opened with these keys, sealed to this certificate's key.
    Offline(KeyRing, PublicKey),
}

impl Resealer {
    fn new(args: &ReencryptArgs, kms: &KmsArgs) -> Result<Self> {
        match (&args.cert, args.recovery_private_key.is_empty()) {
            (None, true) => Ok(Self::Controller(None)),
            (Some(cert), false) => {
                let public = crate::cert::parse_public_key(&crate::cert::read(cert)?, SystemTime::now())?;
                let keys = crate::recovery::load_keys(&args.recovery_private_key)?;
                Ok(Self::Offline(crate::kms::key_ring(keys, kms)?, public))
            }
            (None, false) => bail!(
                "--recovery-private-key re-seals without the controller: pass --cert with the certificate to seal to (file or URL)"
            ),
            (Some(_), true) => bail!(
                "--cert is the certificate to seal to without the controller: pass the keys that open the files with --recovery-private-key (without both, the controller's newest key seals)"
            ),
        }
    }
}

pub(crate) fn run(args: &ReencryptArgs, cluster: &ClusterArgs, kms: &KmsArgs) -> Result<ExitCode> {
    let found = collect(&args.paths)?;
    let route = by_layout::route(&found, args.layout.as_deref(), args.cert.as_deref())?;
    if let by_layout::Route::Layout(plan) = route {
        if args.recovery_private_key.is_empty() {
            by_layout::run_through_controllers(plan, cluster, args.dry_run)?;
        } else {
            let keys = crate::recovery::load_keys(&args.recovery_private_key)?;
            by_layout::run_offline(plan, &crate::kms::key_ring(keys, kms)?, args.dry_run)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut resealer = Resealer::new(args, kms)?;
    block_on(async {
        let (mut rewritten, mut skipped) = (0usize, 0usize);
        for item in found {
            let (shown, path) = match item {
                Found::File { shown, path, .. } => (shown.display().to_string(), path),
                Found::Skip(path, reason) => {
                    println!("skipped {}: {reason}", path.display());
                    skipped += 1;
                    continue;
                }
            };
            let (format, docs) =
                match inspect(&path).with_context(|| format!("cannot re-encrypt {shown}"))? {
                    Contents::Other(reason) => {
                        println!("skipped {shown}: {reason}");
                        skipped += 1;
                        continue;
                    }
                    Contents::Sealed { format, docs } => (format, docs),
                };
            let mut out = String::new();
            let count = docs.len();
            for (doc, sealed) in docs {
                let what = describe(&sealed);
                let rotated = match &mut resealer {
                    Resealer::Offline(keys, public) => {
                        match sealed_secrets_api::reencrypt(&sealed, keys, public) {
                            Ok(rotated) => rotated,
                            Err(e) if e.is_key_failure() => bail!(
                                "cannot re-encrypt {shown}: none of the keys given (--recovery-private-key) opens SealedSecret {what}; the file was left as it was"
                            ),
                            Err(e) => {
                                return Err(anyhow::Error::new(e).context(format!(
                                    "cannot re-encrypt {shown}: SealedSecret {what}"
                                )))
                            }
                        }
                    }
                    Resealer::Controller(controller) => {
                        let controller = match controller {
                            Some(c) => c,
                            empty => empty.insert(Controller::connect(cluster).await.context(
                                "cannot connect to the cluster to reach the controller",
                            )?),
                        };
                        match controller.rotate(&sealed).await.with_context(|| {
                            format!("cannot re-encrypt {shown}: SealedSecret {what}")
                        })? {
                            Verdict::Ok(rotated) => rotated,
                            Verdict::CannotDecrypt => bail!(
                                "cannot re-encrypt {shown}: no key of the controller opens SealedSecret {what} \
                                 (sealed for another cluster or controller, or renamed/moved since it was sealed); the file was left as it was"
                            ),
                        }
                    }
                };
                let mut doc = replace_ciphertexts(doc, &rotated)
                    .with_context(|| format!("cannot re-encrypt {shown}: SealedSecret {what}"))?;
                // A sealed-with record stays true, as with --re-encrypt:
                // set to the certificate here, dropped when the controller
                // chose the key.
                match &resealer {
                    Resealer::Offline(_, public)
                        if crate::sealed_with::recorded(&sealed).is_some() =>
                    {
                        crate::sealed_with::record_in_document(&mut doc, public.fingerprint())
                            .with_context(|| {
                                format!("cannot re-encrypt {shown}: SealedSecret {what}")
                            })?;
                    }
                    Resealer::Offline(..) => {}
                    Resealer::Controller(_) => crate::sealed_with::forget_in_document(&mut doc),
                }
                output::render(&mut out, &doc, format)?;
            }
            if !args.dry_run {
                output::write_atomically(&path, out.as_bytes())
                    .with_context(|| format!("cannot re-encrypt {shown}"))?;
            }
            println!(
                "{} {shown} ({count} SealedSecret{})",
                if args.dry_run {
                    "would reencrypt"
                } else {
                    "reencrypted"
                },
                if count == 1 { "" } else { "s" }
            );
            rewritten += 1;
        }
        if rewritten == 0 {
            eprintln!("no SealedSecret files found ({skipped} skipped)");
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
