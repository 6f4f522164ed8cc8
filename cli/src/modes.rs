//! Validates the flags into one mode and runs it, as the reference's runCLI.
//! Sealing modes run once per target (one per `--cert`, see recipients.rs).

mod merge;
mod reencrypt;

use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use sealed_secrets_api::crypto::{seal, PublicKey, Scope};
use sealed_secrets_api::{seal_secret, unseal, SealOptions, SealedSecret, UnsealOptions};
use serde::Serialize;

use crate::args::Args;
use crate::cert::CertSpec;
use crate::cluster::{block_on, Controller, Verdict};
use crate::kubeconfig::{self, NamespaceChoice};
use crate::output::{self, Destination, FileSet, Format};
use crate::recipients::{self, LayoutFlag, OutputPath, Target};
use crate::{cert, input, recovery, sealed_with};

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
    /// `--cert`, in order.
    certs: Vec<CertSpec>,
    /// `-o`, else JSON: the format of stdout and of files not named .yaml.
    requested_format: Format,
    /// `requested_format`, or YAML for a `-w` named .yaml.
    format: Format,
    format_explicit: bool,
    destination: Destination,
    /// Resolved by [`Run::namespace`] when first needed.
    namespace: OnceCell<NamespaceChoice>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let certs: Vec<CertSpec> = args.seal.cert.iter().map(|c| CertSpec::parse(c)).collect();
    let mode = mode(&args, certs.len())?;
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
    let requested_format = Format::parse(args.seal.format.as_deref().unwrap_or("json"));
    let mut format = requested_format;
    let destination = match output_file {
        Some(path) => {
            format = Format::for_file(&path, format);
            Destination::File(path)
        }
        None => Destination::Stdout,
    };
    let run = Run {
        args,
        certs,
        requested_format,
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

fn mode(args: &Args, certs: usize) -> Result<Mode> {
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
    let single_cluster = [
        (m.fetch_cert, "--fetch-cert"),
        (m.validate, "--validate"),
        (m.recovery_unseal, "--recovery-unseal"),
        (m.open_ui, "--open-ui"),
    ];
    if let Some((_, flag)) = single_cluster
        .iter()
        .find(|(on, _)| *on)
        .filter(|_| certs > 1)
    {
        bail!("{flag} works with one cluster, but {certs} certificates were given (--cert): run it once per cluster");
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

    /// The certificate's PEM: the one `--cert`, else the controller's.
    fn cert_pem(&self) -> Result<Vec<u8>> {
        match self.certs.first() {
            Some(spec) => cert::read(&spec.location),
            None => self.controller_cert(),
        }
    }

    fn controller_cert(&self) -> Result<Vec<u8>> {
        block_on(async {
            let controller = Controller::connect(&self.args.cluster).await?;
            controller.cert().await
        })
    }

    /// Every target of the run writing to `output`, each certificate read
    /// and checked before anything is sealed.
    /// Without `--cert`, a `.sealed-secrets.yaml` above the output file
    /// chooses the certificate (recipients/by_layout.rs).
    fn targets(&self, output: Option<OutputPath<'_>>) -> Result<Vec<Target>> {
        let planned = recipients::plan_with_layout(&self.certs, output, self.layout(), false)?;
        recipients::load(planned, || self.controller_cert())
    }

    /// `--layout`.
    fn layout(&self) -> LayoutFlag<'_> {
        LayoutFlag::from_flag(self.args.seal.layout.as_deref())
    }

    /// `-w`, as a template of the targets' paths.
    fn output_path(&self) -> Option<OutputPath<'_>> {
        self.args
            .seal
            .output_file
            .as_deref()
            .map(|path| OutputPath { flag: "-w", path })
    }

    /// The format of a file at `path` (`.yaml` implies YAML), or of stdout.
    fn format_for(&self, path: Option<&Path>) -> Format {
        match path {
            Some(path) => Format::for_file(path, self.requested_format),
            None => self.requested_format,
        }
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
        let targets = self.targets(self.output_path())?;
        let options = self.seal_options()?;
        let mut results = Vec::with_capacity(targets.len());
        for target in targets {
            let sealed = self.seal_all(&text, &target.key, &options);
            let mut sealed = match &target.cluster {
                Some(name) if self.certs.len() > 1 => {
                    sealed.with_context(|| format!("cannot seal for cluster {name}"))?
                }
                _ => sealed?,
            };
            for s in &mut sealed {
                sealed_with::after_sealing(s, target.key.fingerprint(), target.through_layout);
            }
            results.push((target, sealed));
        }
        self.deliver_objects(results)
    }

    /// Writes each target's objects: one target exactly as a single run
    /// always did; several to stdout as one stream (YAML, a `# cluster:`
    /// line before each cluster's documents) or one JSON `v1 List`; several
    /// files all or none.
    fn deliver_objects<T: Serialize>(&self, results: Vec<(Target, Vec<T>)>) -> Result<()> {
        if results.len() > 1 && results.iter().all(|(t, _)| t.path.is_none()) {
            let clusters: Vec<(&str, &[T])> = results
                .iter()
                .map(|(t, objects)| (t.cluster.as_deref().unwrap_or_default(), objects.as_slice()))
                .collect();
            let mut out = String::new();
            output::render_clusters(&mut out, &clusters, self.requested_format)?;
            return Destination::Stdout.write(out.as_bytes());
        }
        let mut rendered = Vec::with_capacity(results.len());
        for (target, objects) in results {
            let mut out = String::new();
            for object in &objects {
                output::render(&mut out, object, self.format_for(target.path.as_deref()))?;
            }
            rendered.push((target, out.into_bytes()));
        }
        self.deliver(rendered)
    }

    /// Writes each target's bytes to its file (several: all or none), or the
    /// one target's to stdout.
    fn deliver(&self, rendered: Vec<(Target, Vec<u8>)>) -> Result<()> {
        match <[_; 1]>::try_from(rendered) {
            Ok([(target, bytes)]) => match target.path {
                Some(path) => Destination::File(path).write(&bytes),
                None => Destination::Stdout.write(&bytes),
            },
            Err(rendered) => {
                let mut files = FileSet::new();
                for (target, bytes) in rendered {
                    let Some(path) = target.path.clone() else {
                        bail!("{} has no output file: several clusters' results go to one file each (-w with {{cluster}})", target.what());
                    };
                    files.add(path, bytes, target.what());
                }
                files.commit()
            }
        }
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
        let targets = self.targets(self.output_path())?;
        let label = scope.label(&namespace, &name);
        let mut results = Vec::with_capacity(targets.len());
        for target in targets {
            let sealed = seal(&target.key, &data, &label)?;
            let encoded = base64::engine::general_purpose::STANDARD.encode(sealed);
            results.push((target, encoded.into_bytes()));
        }
        // Several to stdout: a YAML map, one `NAME: BASE64` line per cluster.
        if results.len() > 1 && results.iter().all(|(t, _)| t.path.is_none()) {
            let mut out = Vec::new();
            for (target, encoded) in &results {
                out.extend_from_slice(target.cluster.as_deref().unwrap_or_default().as_bytes());
                out.extend_from_slice(b": ");
                out.extend_from_slice(encoded);
                out.push(b'\n');
            }
            return Destination::Stdout.write(&out);
        }
        self.deliver(results)
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
