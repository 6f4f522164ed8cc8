//! `--re-encrypt`: SealedSecrets sealed again, through the controller's
//! `/v1/rotate` as the reference, or with no cluster at all when the keys
//! that open them are given (`--recovery-private-key`) with `--cert`. Offline,
//! several certificates copy one sealed Secret to several clusters
//! (`-w 'clusters/{cluster}/db.yaml'`) without it ever being written in clear.

use anyhow::{bail, Result};

use super::Run;
use crate::cluster::{block_on, Controller, Verdict};
use crate::recipients::{self, CertSource, OutputPath};
use crate::{recovery, sealed_with};

impl Run {
    pub(super) fn re_encrypt(&self) -> Result<()> {
        if !self.args.modes.recovery_private_key.is_empty() {
            return self.re_encrypt_offline();
        }
        if self.certs.len() > 1 {
            bail!(
                "--re-encrypt with several certificates works without the cluster only: pass --recovery-private-key with the keys that open the input"
            );
        }
        let sealed = self.sealed_input()?;
        let rotated = block_on(async {
            let controller = Controller::connect(&self.args.cluster).await?;
            let mut out = Vec::with_capacity(sealed.len());
            for s in &sealed {
                match controller.rotate(s).await? {
                    Verdict::Ok(mut r) => {
                        // Which key the controller used is not known here.
                        sealed_with::forget(&mut r);
                        r.metadata.creation_timestamp = None;
                        r.metadata.deletion_timestamp = None;
                        r.metadata.generation = None;
                        out.push(r);
                    }
                    Verdict::CannotDecrypt => bail!(
                        "unable to rotate secret {}: no key of the controller opens it",
                        s.metadata.name.as_deref().unwrap_or_default()
                    ),
                }
            }
            Ok(out)
        })?;
        let mut out = String::new();
        for r in &rotated {
            crate::output::render(&mut out, r, self.format)?;
        }
        self.destination.write(out.as_bytes())
    }

    /// `--re-encrypt --recovery-private-key KEYS --cert NEW...`: opened with
    /// the given keys and sealed to each NEW here, with no cluster; the
    /// values stay in memory. Without `--cert`, the `.sealed-secrets.yaml`
    /// of the output file names the certificate (and its break-glass copies).
    fn re_encrypt_offline(&self) -> Result<()> {
        // One certificate without -w rewrites -f in place; several need a
        // file per cluster.
        let output = match (&self.args.seal.output_file, &self.args.seal.input_file) {
            (Some(path), _) => Some(OutputPath { flag: "-w", path }),
            (None, _) if self.certs.len() > 1 => bail!(
                "--re-encrypt with {} certificates writes one file per cluster: pass -w with {{cluster}} in the path, e.g. -w 'clusters/{{cluster}}/db.yaml'",
                self.certs.len()
            ),
            (None, Some(path)) => Some(OutputPath { flag: "-f", path }),
            (None, None) => None,
        };
        let planned = recipients::plan_with_layout(&self.certs, output, self.layout(), false)?;
        if planned.iter().any(|p| p.source == CertSource::Controller) {
            bail!(
                "--re-encrypt with --recovery-private-key re-seals without a cluster: \
                 pass --cert with the certificate to seal to (file or URL), or write below a {} that gives the file's folder a cluster",
                crate::layout::FILE_NAME
            );
        }
        let targets = recipients::load(planned, || {
            bail!("--re-encrypt with --recovery-private-key never asks the controller")
        })?;
        let keys = recovery::load_keys(&self.args.modes.recovery_private_key)?;
        let keys = crate::kms::key_ring(keys, &self.args.kms)?;
        let input = self.sealed_input()?;
        let mut results = Vec::with_capacity(targets.len());
        for target in targets {
            let mut resealed = Vec::with_capacity(input.len());
            for s in &input {
                let name = s.metadata.name.as_deref().unwrap_or("<unnamed>");
                let mut r = match sealed_secrets_api::reencrypt(s, &keys, &target.key) {
                    Ok(r) => r,
                    Err(e) if e.is_key_failure() => {
                        return Err(anyhow::Error::new(e)
                            .context(format!("unable to rotate secret {name}"))
                            .context("none of the keys given (--recovery-private-key) opens it"))
                    }
                    Err(e) => {
                        return Err(anyhow::Error::new(e)
                            .context(format!("unable to rotate secret {name}")))
                    }
                };
                r.metadata.creation_timestamp = None;
                r.metadata.deletion_timestamp = None;
                r.metadata.generation = None;
                sealed_with::after_sealing(&mut r, target.key.fingerprint(), target.through_layout);
                resealed.push(r);
            }
            results.push((target, resealed));
        }
        self.deliver_objects(results)
    }
}
