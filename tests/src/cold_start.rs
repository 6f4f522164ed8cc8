//! A cold start of many SealedSecrets for the fault tests: a namespace with
//! one sealing key, N SealedSecrets sealed offline and applied before any
//! controller runs, and one unmanaged Secret nothing may touch. After a fault,
//! [`ColdStart::verify`] checks that everything ended right.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use crate::control_plane::{poll, ControlPlane, Error};
use crate::controller::{Controller, ControllerOptions};
use crate::crd::install_crd;
use crate::http;
use crate::kubeseal::kubeseal;
use crate::namespace::TestNamespace;
use crate::secrets::KEY_SELECTOR;

type Result<T, E = Error> = std::result::Result<T, E>;

pub struct ColdStart {
    pub ns: TestNamespace,
    pub count: usize,
    _dir: tempfile::TempDir,
    /// resourceVersion of the unmanaged Secret when it was made.
    unmanaged_version: String,
}

fn value_of(i: usize) -> String {
    format!("value-{i:05}")
}

fn name_of(i: usize) -> String {
    format!("s-{i:05}")
}

impl ColdStart {
    /// The CRD, namespace, key (`kubeseal admin keys rotate --force`), `count`
    /// SealedSecrets (two items each) sealed in one kubeseal call and applied
    /// server-side, and the unmanaged Secret `unmanaged`.
    pub fn prepare(cp: &ControlPlane, prefix: &str, count: usize) -> Result<Self> {
        // The SealedSecrets go in before any controller (which would install it) runs.
        install_crd(cp)?;
        Self::prepare_in(cp, TestNamespace::create(cp, prefix)?, count)
    }

    /// As [`ColdStart::prepare`], in the namespace whose requests the API
    /// server records ([`crate::audit`]): one such test at a time.
    pub fn prepare_audited(cp: &ControlPlane, count: usize) -> Result<Self> {
        install_crd(cp)?;
        let ns = TestNamespace::create_exact(cp, crate::audit::AUDITED_NAMESPACE)?;
        Self::prepare_in(cp, ns, count)
    }

    fn prepare_in(cp: &ControlPlane, ns: TestNamespace, count: usize) -> Result<Self> {
        let dir = tempfile::tempdir().map_err(|source| Error::Io {
            context: "tempdir".into(),
            source,
        })?;
        let out = kubeseal(
            cp,
            &[
                "admin",
                "keys",
                "rotate",
                "--force",
                "--key-size",
                "2048",
                "--controller-namespace",
                ns.name(),
            ],
            "",
        )?;
        if !out.status.success() {
            return Err(Error::ControlPlane(format!(
                "kubeseal admin keys rotate: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let cert: PathBuf = dir.path().join("cert.pem");
        std::fs::write(&cert, &out.stdout).map_err(|source| Error::Io {
            context: "writing cert".into(),
            source,
        })?;
        let mut secrets = String::new();
        for i in 0..count {
            secrets.push_str(&format!(
                "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: {}, namespace: {}}}\nstringData: {{k: {}, other: x}}\n",
                name_of(i),
                ns.name(),
                value_of(i)
            ));
        }
        let sealed = kubeseal(
            cp,
            &["--cert", &cert.to_string_lossy(), "-o", "yaml"],
            &secrets,
        )?;
        if !sealed.status.success() {
            return Err(Error::ControlPlane(format!(
                "kubeseal: {}",
                String::from_utf8_lossy(&sealed.stderr)
            )));
        }
        let sealed = String::from_utf8_lossy(&sealed.stdout).into_owned();
        ns.kubectl()
            .run_with_stdin(["apply", "--server-side", "-f", "-"], &sealed)?;
        ns.kubectl().run([
            "create",
            "secret",
            "generic",
            "unmanaged",
            "--from-literal=mine=not-yours",
        ])?;
        let unmanaged_version =
            ns.kubectl()
                .get_json(["get", "secret", "unmanaged", "-o", "json"])?["metadata"]
                ["resourceVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string();
        Ok(Self {
            ns,
            count,
            _dir: dir,
            unmanaged_version,
        })
    }

    /// The Secrets of the SealedSecrets by name: (resourceVersion, data).
    pub fn secrets(&self) -> Result<BTreeMap<String, (String, Value)>> {
        let list = self
            .ns
            .kubectl()
            .get_json(["get", "secrets", "-o", "json"])?;
        Ok(list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let name = s["metadata"]["name"].as_str()?;
                name.starts_with("s-").then(|| {
                    (
                        name.to_string(),
                        (
                            s["metadata"]["resourceVersion"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                            s["data"].clone(),
                        ),
                    )
                })
            })
            .collect())
    }

    /// How many are Synced=True at their current generation.
    pub fn synced(&self) -> Result<usize> {
        let list = self
            .ns
            .kubectl()
            .get_json(["get", "sealedsecrets", "-o", "json"])?;
        Ok(list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| {
                s["status"]["observedGeneration"] == s["metadata"]["generation"]
                    && s["status"]["conditions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|c| c["type"] == "Synced" && c["status"] == "True")
            })
            .count())
    }

    /// Waits until at least `n` are synced.
    pub fn wait_synced(&self, n: usize, timeout: Duration) -> Result<()> {
        poll(
            &format!("{n} SealedSecrets synced"),
            timeout,
            Duration::from_millis(500),
            || Ok((self.synced()? >= n).then_some(())),
        )
    }

    /// Everything ended right: every SealedSecret synced, each Secret holds
    /// its own values, Secrets written before the fault (`before`) were not
    /// written again, one key, the unmanaged Secret untouched.
    pub fn verify(&self, before: &BTreeMap<String, (String, Value)>) -> Result<()> {
        let synced = self.synced()?;
        if synced != self.count {
            return Err(Error::ControlPlane(format!(
                "{synced} of {} synced",
                self.count
            )));
        }
        let secrets = self.secrets()?;
        if secrets.len() != self.count {
            return Err(Error::ControlPlane(format!(
                "{} Secrets for {} SealedSecrets",
                secrets.len(),
                self.count
            )));
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        for i in 0..self.count {
            let name = name_of(i);
            let (version, data) = &secrets[&name];
            let value = data["k"]
                .as_str()
                .and_then(|v| b64.decode(v).ok())
                .map(|v| String::from_utf8_lossy(&v).into_owned());
            if value.as_deref() != Some(value_of(i).as_str()) {
                return Err(Error::ControlPlane(format!("{name} holds the wrong value")));
            }
            if let Some((old, _)) = before.get(&name) {
                if old != version {
                    return Err(Error::ControlPlane(format!(
                        "{name} was written again ({old} -> {version})"
                    )));
                }
            }
        }
        let keys =
            self.ns
                .kubectl()
                .get_json(["get", "secrets", "-l", KEY_SELECTOR, "-o", "json"])?;
        let key_count = keys["items"].as_array().map_or(0, Vec::len);
        if key_count != 1 {
            return Err(Error::ControlPlane(format!("{key_count} keys, not 1")));
        }
        let unmanaged = self
            .ns
            .kubectl()
            .get_json(["get", "secret", "unmanaged", "-o", "json"])?;
        if unmanaged["metadata"]["resourceVersion"].as_str() != Some(&self.unmanaged_version) {
            return Err(Error::ControlPlane(
                "the unmanaged Secret was changed".into(),
            ));
        }
        Ok(())
    }
}

/// A metric's value from a Prometheus text page (first series of that name).
pub fn metric(page: &str, name: &str) -> Option<f64> {
    page.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// How long an outage lasts: 60 s, or `SSRS_FAULT_SECONDS` for a quick local run.
fn outage_length() -> Duration {
    Duration::from_secs(
        std::env::var("SSRS_FAULT_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60),
    )
}

/// SIGCONT on drop: a failing assertion must not leave a component stopped.
struct Resume<'a>(&'a ControlPlane, &'a str);

impl Drop for Resume<'_> {
    fn drop(&mut self) {
        let _ = self.0.signal_component(self.1, "CONT");
    }
}

/// Stops `component` (SIGSTOP) for `outage_length()`, then resumes it (SIGCONT).
pub fn pause(cp: &ControlPlane, component: &str) -> Result<()> {
    cp.signal_component(component, "STOP")?;
    let _resume = Resume(cp, component);
    std::thread::sleep(outage_length());
    Ok(())
}

/// The controller's count of SealedSecret watch relists.
pub const RELISTS: &str = "sealed_secrets_controller_watch_relists_total";

/// Waits until `controller` has relisted its SealedSecrets more than
/// `before` times ([`RELISTS`]).
pub fn wait_relisted(controller: &Controller, before: f64, within: Duration) -> Result<()> {
    poll(
        "a relist after the watch expired",
        within,
        Duration::from_millis(250),
        || {
            let page = controller.metrics()?;
            Ok((metric(&page, RELISTS).unwrap_or(0.0) > before).then_some(()))
        },
    )
}

/// Stops `component` (SIGSTOP) for `outage_length()`, checking meanwhile
/// that `controller` answers /healthz, /readyz (200: it can still serve
/// certificates) and /metrics at once; then kills the component and starts
/// it again with `scripts/control-plane up`.
pub fn outage(cp: &ControlPlane, component: &str, controller: &Controller) -> Result<()> {
    cp.signal_component(component, "STOP")?;
    let resume = Resume(cp, component);
    let until = std::time::Instant::now() + outage_length();
    while std::time::Instant::now() < until {
        for path in ["/healthz", "/readyz"] {
            let asked = std::time::Instant::now();
            let (code, body) = controller.get(path)?;
            if code != 200 || asked.elapsed() > Duration::from_secs(2) {
                return Err(Error::ControlPlane(format!(
                    "{path} during the {component} outage: {code} after {:?}: {body}",
                    asked.elapsed()
                )));
            }
        }
        let page = controller.metrics()?;
        if metric(&page, "sealed_secrets_controller_unseal_requests_total").is_none() {
            return Err(Error::ControlPlane(format!(
                "no metrics during the outage:\n{page}"
            )));
        }
        std::thread::sleep(Duration::from_secs(5));
    }
    cp.kill_component(component)?;
    drop(resume);
    cp.restart_stopped()
}

/// How long after the component is back every SealedSecret must be synced.
const SYNCED_AFTER_OUTAGE: Duration = Duration::from_secs(120);

/// The outage scenario of the fault tests: a cold start of `count`
/// SealedSecrets, `component` stopped then killed and started again when a
/// fifth are synced ([`outage`]), and afterwards everything right
/// ([`ColdStart::verify`]) within `SYNCED_AFTER_OUTAGE` of the component
/// being back, with the controller still running, no panic.
pub fn outage_mid_cold_start(
    cp: &ControlPlane,
    component: &str,
    prefix: &str,
    count: usize,
) -> Result<()> {
    let cold = ColdStart::prepare(cp, prefix, count)?;
    let mut controller = ControllerOptions::for_namespace(&cold.ns).start(cp)?;
    let with_log = |e: Error, controller: &Controller| {
        Error::ControlPlane(format!("{e}\n{}", controller.log()))
    };
    cold.wait_synced(count / 5, Duration::from_secs(180))
        .map_err(|e| with_log(e, &controller))?;
    let before = cold.secrets()?;
    if before.len() >= count {
        return Err(Error::ControlPlane(
            "all synced before the outage: it must come mid-way".into(),
        ));
    }
    outage(cp, component, &controller).map_err(|e| with_log(e, &controller))?;
    // The component is back: within two minutes every status says Synced=True
    // at the current generation again (a SealedSecret left behind by the
    // outage waits for no later event).
    cold.wait_synced(count, SYNCED_AFTER_OUTAGE)
        .map_err(|e| with_log(e, &controller))?;
    cold.verify(&before).map_err(|e| with_log(e, &controller))?;
    if !controller.is_running() {
        return Err(with_log(
            Error::ControlPlane("the controller exited by itself".into()),
            &controller,
        ));
    }
    if controller.log().contains("panicked") {
        return Err(with_log(
            Error::ControlPlane("the controller panicked".into()),
            &controller,
        ));
    }
    Ok(())
}

/// Compacts etcd's history up to now through its JSON gateway, so any watch
/// resuming from an older resourceVersion gets 410 Gone.
fn compact(cp: &ControlPlane) -> Result<()> {
    let url = crate::etcd::url(cp)?;
    let (code, body) = http::post(&format!("{url}/v3/kv/range"), br#"{"key":"AA=="}"#)?;
    if code != 200 {
        return Err(Error::ControlPlane(format!("etcd range: {code}: {body}")));
    }
    let header: Value = serde_json::from_str(&body).map_err(|e| Error::Parse {
        command: "etcd range".into(),
        message: e.to_string(),
    })?;
    let revision = header["header"]["revision"]
        .as_str()
        .ok_or_else(|| Error::ControlPlane(format!("etcd range: no revision in {body}")))?
        .to_string();
    let request = format!(r#"{{"revision":"{revision}","physical":true}}"#);
    let (code, body) = http::post(&format!("{url}/v3/kv/compaction"), request.as_bytes())?;
    if code != 200 {
        return Err(Error::ControlPlane(format!(
            "etcd compaction: {code}: {body}"
        )));
    }
    Ok(())
}

/// Makes every watch that resumes from before now expire: history moves on
/// (20 ConfigMaps `churn-N` in `ns`) and is compacted away, and kube-apiserver
/// is killed and started again so its watch cache forgets it too. A watch
/// coming back then gets 410 Gone and lists everything again.
pub fn expire_watches(cp: &ControlPlane, ns: &TestNamespace) -> Result<()> {
    for i in 0..20 {
        ns.kubectl().run([
            "create",
            "configmap",
            &format!("churn-{i}"),
            "--from-literal=k=v",
        ])?;
    }
    compact(cp)?;
    cp.kill_component("kube-apiserver")?;
    cp.restart_stopped()
}
