//! Validates the flags into one mode and runs it, as the reference's runCLI.

use std::cell::OnceCell;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{bail, Context as _, Result};
use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use sealed_secrets_api::crypto::{seal, PublicKey, Scope};
use sealed_secrets_api::{seal_secret, unseal, SealOptions, SealedSecret, UnsealOptions};

use crate::args::Args;
use crate::cluster::{block_on, Controller, Verdict};
use crate::kubeconfig::{self, NamespaceChoice};
use crate::output::{self, Destination, Format};
use crate::{cert, input, recovery};

/// Where `kubectl proxy` listens unless told otherwise.
const KUBECTL_PROXY_PORT: u16 = 8001;

/// What one invocation does, decided from the flags before any work starts.
enum Mode {
    Version,
    RecoveryUnseal,
    Validate,
    ReEncrypt,
    FetchCert,
    OpenUi,
    MergeInto(PathBuf),
    Raw,
    Seal,
}

struct Run {
    args: Args,
    format: Format,
    format_explicit: bool,
    destination: Destination,
    /// Resolved by [`Run::namespace`] when first needed.
    namespace: OnceCell<NamespaceChoice>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let mode = mode(&args)?;
    if let Mode::Version = mode {
        println!("kubeseal version: v{}", env!("CARGO_PKG_VERSION"));
        return Ok(ExitCode::SUCCESS);
    }
    let mut output_file = args.seal.output_file.clone();
    // --re-encrypt with only -f rewrites that file in place (as the reference).
    if matches!(mode, Mode::ReEncrypt) && output_file.is_none() {
        output_file = args.seal.input_file.clone();
    }
    // Absent means JSON, except that --merge-into keeps its file's own format.
    let format_explicit = args.seal.format.is_some();
    let mut format = Format::parse(args.seal.format.as_deref().unwrap_or("json"));
    let destination = match output_file {
        Some(path) => {
            format = Format::for_file(&path, format);
            Destination::File(path)
        }
        None => Destination::Stdout,
    };
    let run = Run {
        args,
        format,
        format_explicit,
        destination,
        namespace: OnceCell::new(),
    };
    match mode {
        Mode::Version => unreachable!("handled above"),
        Mode::RecoveryUnseal => run.recovery_unseal(),
        Mode::Validate => run.validate(),
        Mode::ReEncrypt => run.re_encrypt(),
        Mode::FetchCert => run.fetch_cert(),
        Mode::OpenUi => run.open_ui(),
        Mode::MergeInto(file) => run.merge_into(&file),
        Mode::Raw => run.raw(),
        Mode::Seal => run.seal(),
    }?;
    Ok(ExitCode::SUCCESS)
}

fn mode(args: &Args) -> Result<Mode> {
    let m = &args.modes;
    let s = &args.seal;
    if args.version {
        return Ok(Mode::Version);
    }
    let chosen: Vec<&str> = [
        (m.recovery_unseal, "--recovery-unseal"),
        (m.validate, "--validate"),
        (m.re_encrypt, "--re-encrypt"),
        (m.fetch_cert, "--fetch-cert"),
        (m.open_ui, "--open-ui"),
        (s.merge_into.is_some(), "--merge-into"),
        (s.raw, "--raw"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if chosen.len() > 1 {
        bail!(
            "{} cannot be used together: choose one",
            chosen.join(" and ")
        );
    }
    if !s.from_file.is_empty() && !s.raw {
        bail!("--from-file requires --raw");
    }
    if !m.recovery_private_key.is_empty() && !m.recovery_unseal && !m.re_encrypt {
        eprintln!("warning: ignoring --recovery-private-key because unseal command not chosen with --recovery-unseal");
    }
    Ok(if m.recovery_unseal {
        Mode::RecoveryUnseal
    } else if m.validate {
        Mode::Validate
    } else if m.re_encrypt {
        Mode::ReEncrypt
    } else if m.fetch_cert {
        Mode::FetchCert
    } else if m.open_ui {
        Mode::OpenUi
    } else if let Some(file) = &s.merge_into {
        Mode::MergeInto(file.clone())
    } else if s.raw {
        Mode::Raw
    } else {
        Mode::Seal
    })
}

impl Run {
    /// The namespace to seal into, from `-n` or the kubeconfig, read on the
    /// first call only (modes that do not seal never read the kubeconfig).
    fn namespace(&self) -> Result<NamespaceChoice> {
        if let Some(choice) = self.namespace.get() {
            return Ok(choice.clone());
        }
        let c = &self.args.cluster;
        let choice = kubeconfig::namespace(
            c.namespace.as_deref(),
            c.kubeconfig.as_deref(),
            c.context.as_deref(),
        )?;
        Ok(self.namespace.get_or_init(|| choice).clone())
    }

    fn cert_pem(&self) -> Result<Vec<u8>> {
        match &self.args.seal.cert {
            Some(location) => cert::read(location),
            None => block_on(async {
                let controller = Controller::connect(&self.args.cluster).await?;
                controller.cert().await
            }),
        }
    }

    fn public_key(&self) -> Result<PublicKey> {
        cert::parse_public_key(&self.cert_pem()?, SystemTime::now())
    }

    fn seal_options(&self) -> Result<SealOptions> {
        let ns = self.namespace()?;
        Ok(SealOptions {
            scope: Some(self.args.seal.scope),
            name: self.args.seal.name.clone().filter(|n| !n.is_empty()),
            force_namespace: None,
            default_namespace: ns.namespace,
            namespace_explicit: ns.explicit,
            allow_empty_data: self.args.seal.allow_empty_data,
        })
    }

    fn read_input(&self, what: &str) -> Result<String> {
        input::read(self.args.seal.input_file.as_deref(), what)
    }

    fn seal_all(
        &self,
        text: &str,
        key: &PublicKey,
        options: &SealOptions,
    ) -> Result<Vec<SealedSecret>> {
        let secrets: Vec<Secret> = input::objects(text, "Secret")?;
        if secrets.is_empty() {
            bail!("no secrets found. Ensure the input is valid and UTF-8 encoded");
        }
        let many = secrets.len() > 1;
        secrets
            .into_iter()
            .enumerate()
            .map(|(i, secret)| {
                let name = secret.metadata.name.clone().unwrap_or_default();
                let sealed = seal_secret(secret, key, options);
                if many {
                    sealed.with_context(|| format!("cannot seal input document {} ({name})", i + 1))
                } else {
                    Ok(sealed?)
                }
            })
            .collect()
    }

    fn seal(&self) -> Result<()> {
        let text = self.read_input("secret")?;
        let key = self.public_key()?;
        let sealed = self.seal_all(&text, &key, &self.seal_options()?)?;
        let mut out = String::new();
        for s in &sealed {
            output::render(&mut out, s, self.format)?;
        }
        self.destination.write(out.as_bytes())
    }

    fn fetch_cert(&self) -> Result<()> {
        let pem = self.cert_pem()?;
        self.destination.write(&pem)
    }

    /// The page's URL on stdout (for scripts), what to do with it on stderr.
    fn open_ui(&self) -> Result<()> {
        let path = block_on(async {
            Controller::connect(&self.args.cluster)
                .await?
                .ui_path()
                .await
        })?;
        eprintln!("Run `kubectl proxy` (same kubeconfig and context), then open in a browser on this machine:");
        self.destination
            .write(format!("http://127.0.0.1:{KUBECTL_PROXY_PORT}{path}\n").as_bytes())
    }

    fn raw(&self) -> Result<()> {
        let scope = self.args.seal.scope;
        let ns = self.namespace()?;
        let name = self.args.seal.name.clone().unwrap_or_default();
        let namespace = ns.namespace.unwrap_or_default();
        if scope != Scope::ClusterWide {
            if namespace.is_empty() {
                bail!("must provide the --namespace flag with --raw and --scope {scope}");
            }
            if name.is_empty() && scope == Scope::Strict {
                bail!("must provide the --name flag with --raw and --scope {scope}");
            }
        }
        let data = match self.args.seal.from_file.as_slice() {
            [] => {
                use std::io::{IsTerminal as _, Read as _};
                if std::io::stdin().is_terminal() {
                    eprintln!("(tty detected: expecting a secret to encrypt in stdin)");
                }
                let mut data = Vec::new();
                std::io::stdin()
                    .lock()
                    .read_to_end(&mut data)
                    .context("cannot read the value from stdin")?;
                data
            }
            [one] => {
                let path = one.split_once('=').map_or(one.as_str(), |(_, path)| path);
                std::fs::read(path).with_context(|| format!("cannot read --from-file {path:?}"))?
            }
            _ => {
                bail!("must provide only one --from-file when encrypting a single item with --raw")
            }
        };
        let key = self.public_key()?;
        let sealed = seal(&key, &data, &scope.label(&namespace, &name))?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(sealed);
        self.destination.write(encoded.as_bytes())
    }

    fn merge_into(&self, file: &std::path::Path) -> Result<()> {
        let original_text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read --merge-into file {}", file.display()))?;
        let mut originals: Vec<SealedSecret> = input::objects(&original_text, "SealedSecret")
            .with_context(|| {
                format!("--merge-into file {} is not a SealedSecret", file.display())
            })?;
        if originals.len() != 1 {
            bail!(
                "--merge-into file {} must hold exactly one SealedSecret, found {}",
                file.display(),
                originals.len()
            );
        }
        let mut original = originals.remove(0);
        let text = self.read_input("secret")?;
        let key = self.public_key()?;
        let options = SealOptions {
            name: original.metadata.name.clone(),
            force_namespace: original.metadata.namespace.clone(),
            ..self.seal_options()?
        };
        for update in self.seal_all(&text, &key, &options)? {
            original
                .spec
                .encrypted_data
                .extend(update.spec.encrypted_data);
            let (into, from) = (&mut original.spec.template, update.spec.template);
            if let Some(a) = from.metadata.annotations {
                into.metadata.annotations.get_or_insert_default().extend(a);
            }
            if let Some(l) = from.metadata.labels {
                into.metadata.labels.get_or_insert_default().extend(l);
            }
            if let Some(d) = from.data {
                into.data.get_or_insert_default().extend(d);
            }
        }
        // Keep the file in its own format unless -o says otherwise.
        let format = if self.format_explicit {
            self.format
        } else {
            Format::of_text(&original_text)
        };
        let mut out = String::new();
        output::render(&mut out, &original, format)?;
        output::write_atomically(file, out.as_bytes())
    }

    fn sealed_input(&self) -> Result<Vec<SealedSecret>> {
        let text = self.read_input("sealed secret")?;
        let sealed: Vec<SealedSecret> = input::objects(&text, "SealedSecret")?;
        if sealed.is_empty() {
            bail!("no SealedSecret found in the input");
        }
        Ok(sealed)
    }

    fn validate(&self) -> Result<()> {
        let sealed = self.sealed_input()?;
        block_on(async {
            let controller = Controller::connect(&self.args.cluster).await?;
            for s in &sealed {
                if let Verdict::CannotDecrypt = controller.verify(s).await? {
                    bail!(
                        "unable to decrypt sealed secret: {}",
                        s.metadata.name.as_deref().unwrap_or_default()
                    );
                }
            }
            Ok(())
        })
    }

    fn re_encrypt(&self) -> Result<()> {
        if !self.args.modes.recovery_private_key.is_empty() {
            return self.re_encrypt_offline();
        }
        let sealed = self.sealed_input()?;
        let rotated = block_on(async {
            let controller = Controller::connect(&self.args.cluster).await?;
            let mut out = Vec::with_capacity(sealed.len());
            for s in &sealed {
                match controller.rotate(s).await? {
                    Verdict::Ok(mut r) => {
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
            output::render(&mut out, r, self.format)?;
        }
        self.destination.write(out.as_bytes())
    }

    /// `--re-encrypt --recovery-private-key KEYS --cert NEW`: opened with
    /// the given keys and sealed to NEW here, with no cluster; the values
    /// stay in memory.
    fn re_encrypt_offline(&self) -> Result<()> {
        if self.args.seal.cert.is_none() {
            bail!(
                "--re-encrypt with --recovery-private-key re-seals without a cluster: \
                 pass --cert with the certificate to seal to (file or URL)"
            );
        }
        let new_key = self.public_key()?;
        let keys = recovery::load_keys(&self.args.modes.recovery_private_key)?;
        let keys = crate::kms::key_ring(keys, &self.args.kms)?;
        let mut out = String::new();
        for s in &self.sealed_input()? {
            let name = s.metadata.name.as_deref().unwrap_or("<unnamed>");
            let mut resealed = match sealed_secrets_api::reencrypt(s, &keys, &new_key) {
                Ok(resealed) => resealed,
                Err(e) if e.is_key_failure() => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("unable to rotate secret {name}"))
                        .context("none of the keys given (--recovery-private-key) opens it"))
                }
                Err(e) => {
                    return Err(
                        anyhow::Error::new(e).context(format!("unable to rotate secret {name}"))
                    )
                }
            };
            resealed.metadata.creation_timestamp = None;
            resealed.metadata.deletion_timestamp = None;
            resealed.metadata.generation = None;
            output::render(&mut out, &resealed, self.format)?;
        }
        self.destination.write(out.as_bytes())
    }

    fn recovery_unseal(&self) -> Result<()> {
        let keys = recovery::load_keys(&self.args.modes.recovery_private_key)?;
        let keys = crate::kms::key_ring(keys, &self.args.kms)?;
        let sealed = self.sealed_input()?;
        let options = UnsealOptions {
            accept_deprecated_v1_data: false,
            templates: &sealed_secrets_api::TEMPLATES,
            preferred_key: None,
        };
        let mut out = String::new();
        for s in &sealed {
            let name = s.metadata.name.as_deref().unwrap_or("<unnamed>");
            let unsealed = match unseal(s, &keys, &options) {
                Ok(unsealed) => unsealed,
                Err(e) if e.is_key_failure() => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("cannot unseal {name}"))
                        .context(if keys.len() == 1 {
                            "the key given does not open it"
                        } else {
                            "none of the keys given opens it"
                        }))
                }
                Err(e) => {
                    return Err(anyhow::Error::new(e).context(format!("cannot unseal {name}")))
                }
            };
            output::render(&mut out, &unsealed.secret, self.format)?;
        }
        // Plaintext: only the owner may read the file.
        self.destination.write_secret(out.as_bytes())
    }
}
