//! The Helm chart on the real cluster: the controller runs as a Pod from the
//! locally built image (scripts/build-image, loaded with
//! `scripts/control-plane load-image`; scripts/test-all does both).
//!
//! 1. `helm4 install` of our chart into kube-system as the reference README
//!    says (`--set-string fullnameOverride=sealed-secrets-controller`):
//!    the Pod is Ready, `kubeseal` with its default flags seals and the Pod
//!    unseals, and it serves every metric the chart's dashboard and alerts
//!    query. `helm uninstall` leaves no Pod behind.
//! 2. Upgrade from the reference: `helm3 install` of the reference chart
//!    (our image substituted for the reference's) with
//!    `tests/fixtures/helm/values/upgrade.yaml`, in a namespace enforcing the
//!    `restricted` Pod Security level, at its default full name
//!    (`kubeseal --controller-name sealed-secrets`, as its README says);
//!    SealedSecrets unsealed; then `helm4 upgrade` to our chart with the same
//!    values file and nothing else: the Deployment's selector is unchanged, the key Secrets
//!    are kept, every SealedSecret stays Synced with its Secret untouched,
//!    and new ones unseal.
//!
//! One test on purpose: the controller Pod watches every namespace, so
//! nothing else may run a controller beside it (cargo runs test binaries one
//! at a time). Every release is uninstalled on drop (also on failure) and its
//! Pods waited for.

use std::path::Path;
use std::time::Duration;

use sealed_secrets_e2e::helm::{documents, our_chart, reference_chart, Helm};
use sealed_secrets_e2e::kubeseal::{kubeseal, lf, succeeded};
use sealed_secrets_e2e::pod::is_ready;
use sealed_secrets_e2e::secrets::wait_secret_value;
use sealed_secrets_e2e::status::synced;
use sealed_secrets_e2e::{poll, ControlPlane, Kubectl, TestNamespace};
use serde_json::Value;

/// The image the chart runs by default (values.yaml), as the kubelet names it.
const IMAGE: &str = "docker.io/sealed-secrets-rs/controller:0.1.0";
/// What replaces the reference chart's image.
const OUR_IMAGE_VALUES: &str =
    "image.registry=docker.io,image.repository=sealed-secrets-rs/controller,image.tag=0.1.0";
const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
const WAIT: Duration = Duration::from_secs(180);
const TICK: Duration = Duration::from_millis(500);

/// A Helm release, uninstalled on drop; the drop waits until its Pods are gone.
struct Release {
    helm: Helm,
    name: String,
    namespace: String,
    kubectl: Kubectl,
}

impl Release {
    /// `helm install NAME CHART -n NAMESPACE --wait ARGS...`. The guard exists
    /// before the install runs, so a failed install is cleaned up too.
    fn install(
        cp: &ControlPlane,
        helm: &Helm,
        name: &str,
        namespace: &str,
        chart: &Path,
        args: &[&str],
    ) -> Release {
        let release = Release {
            helm: helm.with_kubeconfig(cp.kubeconfig()),
            name: name.into(),
            namespace: namespace.into(),
            kubectl: cp.kubectl().namespace(namespace),
        };
        let mut install = vec!["install", name, chart.to_str().expect("UTF-8 path")];
        install.extend(["--namespace", namespace, "--wait", "--timeout", "180s"]);
        install.extend(args);
        release
            .helm
            .run(&install)
            .unwrap_or_else(|e| panic!("{e}\n{}", release.describe()));
        release
    }

    fn selector(&self) -> String {
        format!(
            "app.kubernetes.io/instance={},app.kubernetes.io/name=sealed-secrets",
            self.name
        )
    }

    /// The release's Pods that are not being deleted.
    fn pods(&self) -> Vec<Value> {
        let list = self
            .kubectl
            .get_json(["get", "pods", "-l", &self.selector()])
            .expect("list pods");
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .cloned()
            .collect()
    }

    /// A Ready Pod, once all the Deployment's replicas are Ready (ours runs
    /// two, the reference chart one).
    fn ready_pod(&self) -> Value {
        poll("every controller Pod Ready", WAIT, TICK, || {
            let deployments =
                self.kubectl
                    .get_json(["get", "deployments", "-l", &self.selector()])?;
            let replicas = deployments["items"][0]["spec"]["replicas"]
                .as_u64()
                .unwrap_or(1) as usize;
            let pods = self.pods();
            Ok((pods.len() == replicas && pods.iter().all(is_ready)).then(|| pods[0].clone()))
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", self.describe()))
    }

    fn logs(&self, pod: &Value) -> String {
        let name = pod["metadata"]["name"].as_str().unwrap_or_default();
        self.kubectl
            .run(["logs", name, "--tail=-1"])
            .unwrap_or_else(|e| format!("(no logs: {e})"))
    }

    /// Pods, events and logs, for failure messages.
    fn describe(&self) -> String {
        let pods = self
            .kubectl
            .run(["describe", "pods", "-l", &self.selector()])
            .unwrap_or_else(|e| e.to_string());
        let logs = self
            .kubectl
            .run(["logs", "-l", &self.selector(), "--tail=50"])
            .unwrap_or_default();
        format!("{pods}\nlogs:\n{logs}")
    }

    fn uninstall(&self) {
        if let Err(e) = self.helm.run([
            "uninstall",
            &self.name,
            "--namespace",
            &self.namespace,
            "--ignore-not-found",
            "--cascade",
            "foreground",
            "--wait",
            "--timeout",
            "120s",
        ]) {
            eprintln!("warning: helm uninstall {}: {e}", self.name);
        }
        let gone = poll("the release's Pods gone", WAIT, TICK, || {
            let list = self
                .kubectl
                .get_json(["get", "pods", "-l", &self.selector()])?;
            Ok(list["items"]
                .as_array()
                .is_none_or(Vec::is_empty)
                .then_some(()))
        });
        if let Err(e) = gone {
            eprintln!("warning: {e}");
        }
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        self.uninstall();
    }
}

fn secret(ns: &str, name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\nstringData: {{k: {value}}}\n")
}

/// Seals `name` (k=value) with our kubeseal and `flags`, applies it and waits
/// for the Secret; returns the sealed YAML.
fn seal_and_apply(
    cp: &ControlPlane,
    ns: &TestNamespace,
    flags: &[&str],
    name: &str,
    value: &str,
    release: &Release,
) -> String {
    let mut args = vec!["-o", "yaml"];
    args.extend(flags);
    let sealed =
        succeeded(&kubeseal(cp, &args, &secret(ns.name(), name, value)).expect("kubeseal"));
    ns.kubectl().apply(&sealed).expect("apply the SealedSecret");
    wait_secret_value(ns, name, "k", value)
        .unwrap_or_else(|e| panic!("{e}\n{}", release.describe()));
    sealed
}

/// Before installing: what `kubectl apply -k manifests/` (tests/tests/manifests.rs,
/// `make demo`) leaves in kube-system has the names the chart uses with
/// fullnameOverride=sealed-secrets-controller, and Helm refuses objects it
/// does not own. Removes every resource of manifests/kustomization.yaml but
/// the CRD.
fn remove_manifests_objects(cp: &ControlPlane) {
    let manifests = cp.repo_dir().join("manifests");
    let text =
        std::fs::read_to_string(manifests.join("kustomization.yaml")).expect("kustomization.yaml");
    let kustomization: Value = serde_yaml::from_str(&text).expect("kustomization.yaml is YAML");
    let mut args = vec![
        "delete".to_string(),
        "--ignore-not-found".to_string(),
        "--wait=true".to_string(),
    ];
    for file in kustomization["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(Value::as_str)
    {
        if file != "crd.yaml" {
            args.push("-f".into());
            args.push(manifests.join(file).to_string_lossy().into_owned());
        }
    }
    assert!(args.len() > 4, "{args:?}");
    cp.kubectl()
        .run(&args)
        .expect("remove the manifests' objects");
}

/// Log lines about a refused request, but for namespaces being deleted (other
/// tests' namespaces, where nothing may be created any more).
fn permission_errors(logs: &str) -> Vec<&str> {
    logs.lines()
        .filter(|l| l.contains("forbidden") && !l.contains("is being terminated"))
        .collect()
}

/// Sample names of a Prometheus exposition.
fn metric_names(exposition: &str) -> Vec<String> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next().map(String::from))
        .collect()
}

/// The `sealed_secrets_controller_*` names in `text`.
fn queried_metrics(text: &str) -> Vec<String> {
    text.match_indices("sealed_secrets_controller_")
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn the_chart_installs_and_upgrades_from_the_reference() {
    let Some(helms) = Helm::all() else { return };
    let (helm3, helm4) = (&helms[0], &helms[1]);
    let cp = ControlPlane::shared().expect("control plane");
    let images = sealed_secrets_e2e::pod::manifest_image(cp).expect("image name");
    assert_eq!(
        images, IMAGE,
        "the chart's default image is the manifests' one"
    );
    let mut list = std::process::Command::new(cp.repo_dir().join("scripts/control-plane"));
    list.arg("images");
    let loaded = list.output().expect("scripts/control-plane images");
    assert!(
        String::from_utf8_lossy(&loaded.stdout)
            .lines()
            .any(|l| l.trim() == IMAGE),
        "the node has no image {IMAGE}: run scripts/build-image controller and \
         scripts/control-plane load-image target/images/sealed-secrets-controller-*.oci.tar"
    );
    let started = std::time::Instant::now();
    install_into_kube_system(cp, helm4);
    eprintln!("install into kube-system: {:?}", started.elapsed());
    let started = std::time::Instant::now();
    if let Some(reference) = reference_chart() {
        upgrade_from_the_reference(cp, helm3, helm4, &reference);
    }
    eprintln!("upgrade from the reference: {:?}", started.elapsed());
}

fn install_into_kube_system(cp: &ControlPlane, helm: &Helm) {
    remove_manifests_objects(cp);
    let release = Release::install(
        cp,
        helm,
        "sealed-secrets",
        "kube-system",
        &our_chart(),
        &[
            "--set-string",
            "fullnameOverride=sealed-secrets-controller",
            "--set",
            "metrics.dashboards.create=true",
        ],
    );
    let pod = release.ready_pod();
    let container = &pod["spec"]["containers"][0];
    assert_eq!(container["name"], "controller");
    assert_eq!(
        pod["spec"]["serviceAccountName"],
        "sealed-secrets-controller"
    );
    let status = &pod["status"]["containerStatuses"][0];
    assert_eq!(status["image"], IMAGE, "the loaded image ran");
    assert_eq!(status["restartCount"], 0, "{}", release.describe());
    let logs = poll("the controller's watches synced", WAIT, TICK, || {
        let logs = release.logs(&pod);
        Ok(logs.contains("watches synced").then_some(logs))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", release.describe()));
    assert_eq!(permission_errors(&logs), Vec::<&str>::new(), "{logs}");

    // kubeseal's defaults find it: kube-system/sealed-secrets-controller, port http.
    let fetched = succeeded(&kubeseal(cp, &["--fetch-cert"], "").expect("fetch-cert"));
    let served = cp
        .kubectl()
        .get_raw("/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem")
        .expect("cert through the service proxy");
    assert_eq!(lf(&fetched), lf(&served));
    let ns = TestNamespace::create(cp, "helm").expect("namespace");
    let sealed = seal_and_apply(cp, &ns, &[], "one", "v1", &release);
    succeeded(&kubeseal(cp, &["--validate"], &sealed).expect("validate"));
    // One that cannot be unsealed, so unseal_errors_total has a series.
    ns.kubectl()
        .apply(&sealed.replace("name: one", "name: broken"))
        .expect("apply a SealedSecret for another name");

    // Every metric the dashboard (installed) and the alerts (rendered) query is served.
    let dashboard = cp
        .kubectl()
        .namespace("kube-system")
        .get_json([
            "get",
            "configmap",
            "sealed-secrets-controller-sealed-secrets-controller",
        ])
        .expect("the dashboard ConfigMap");
    let rules = helm
        .template(
            "sealed-secrets",
            "kube-system",
            &our_chart(),
            &[],
            &["--set", "metrics.prometheusRule.enabled=true"],
        )
        .expect("render the PrometheusRule");
    let rules: Vec<Value> = documents(&rules)
        .expect("YAML")
        .into_iter()
        .filter(|o| o["kind"] == "PrometheusRule")
        .collect();
    let mut wanted = queried_metrics(&dashboard["data"].to_string());
    wanted.extend(queried_metrics(
        &serde_json::to_string(&rules).expect("JSON"),
    ));
    assert!(wanted.len() > 5, "{wanted:?}");
    // A ServiceMonitor scrapes every Pod. Gauges of the cluster's state
    // (conditions, keys, failures) come from each replica's watches, so
    // every Pod serves them, leader or not; counters and histograms count
    // each replica's own work (a standby's unseal counters stay empty), so
    // together the Pods serve them (README, "Metrics with two replicas").
    let pods = cp
        .kubectl()
        .namespace("kube-system")
        .get_json([
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/instance=sealed-secrets,app.kubernetes.io/name=sealed-secrets",
        ])
        .expect("controller pods");
    let pods: Vec<String> = pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["metadata"]["name"].as_str().map(String::from))
        .collect();
    assert_eq!(pods.len(), 2, "two replicas: {pods:?}");
    let per_replica = |name: &str| {
        ["_total", "_bucket", "_count", "_sum"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
    };
    poll(
        "every queried metric served",
        Duration::from_secs(60),
        TICK,
        || {
            let mut union = Vec::new();
            for pod in &pods {
                let path =
                    format!("/api/v1/namespaces/kube-system/pods/http:{pod}:8081/proxy/metrics");
                let served = metric_names(&cp.kubectl().get_raw(&path)?);
                if wanted
                    .iter()
                    .any(|w| !per_replica(w) && !served.contains(w))
                {
                    return Ok(None);
                }
                union.extend(served);
            }
            Ok(wanted.iter().all(|w| union.contains(w)).then_some(()))
        },
    )
    .unwrap_or_else(|e| panic!("{e}: wanted {wanted:?}"));

    // helm uninstall removes the Deployment and its Pods.
    drop(release);
    let left = cp
        .kubectl()
        .namespace("kube-system")
        .get_json([
            "get",
            "deployments,pods",
            "-l",
            "app.kubernetes.io/instance=sealed-secrets",
        ])
        .expect("list");
    assert_eq!(
        left["items"],
        serde_json::json!([]),
        "nothing left in kube-system"
    );
}

/// (name, uid) of the key Secrets in `namespace`.
fn key_secrets(kubectl: &Kubectl) -> Vec<(String, String)> {
    let list = kubectl
        .get_json(["get", "secrets", "-l", KEY_LABEL])
        .expect("key secrets");
    let mut keys: Vec<(String, String)> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let field = |f: &str| s["metadata"][f].as_str().unwrap_or_default().to_string();
            (field("name"), field("uid"))
        })
        .collect();
    keys.sort();
    keys
}

/// uid and resourceVersion of a Secret: unchanged means untouched.
fn version_of(ns: &TestNamespace, name: &str) -> (Value, Value) {
    let s = ns
        .kubectl()
        .get_optional("secret", name)
        .expect("get")
        .expect("the Secret exists");
    (
        s["metadata"]["uid"].clone(),
        s["metadata"]["resourceVersion"].clone(),
    )
}

fn upgrade_from_the_reference(cp: &ControlPlane, helm3: &Helm, helm4: &Helm, reference: &Path) {
    let home = TestNamespace::create(cp, "helm-upgrade").expect("namespace");
    cp.kubectl()
        .run([
            "label",
            "namespace",
            home.name(),
            "pod-security.kubernetes.io/enforce=restricted",
        ])
        .expect("label the namespace");
    let values = cp
        .repo_dir()
        .join("tests/fixtures/helm/values/upgrade.yaml");
    let values = values.to_str().expect("UTF-8 path");
    let mut release = Release::install(
        cp,
        helm3,
        "sealed-secrets",
        home.name(),
        reference,
        &["--values", values, "--set", OUR_IMAGE_VALUES],
    );
    let old_pod = release.ready_pod();
    let kubectl = cp.kubectl().namespace(home.name());
    let keys = poll("the controller's first key", WAIT, TICK, || {
        let keys = key_secrets(&kubectl);
        Ok((!keys.is_empty()).then_some(keys))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", release.describe()));
    assert!(
        keys.iter().all(|(n, _)| n.starts_with("upgrade-keys")),
        "secretName is the key prefix: {keys:?}"
    );

    // The reference's README: kubeseal --controller-name <full name>.
    let apps = TestNamespace::create(cp, "helm-apps").expect("namespace");
    let flags = [
        "--controller-name",
        "sealed-secrets",
        "--controller-namespace",
        home.name(),
    ];
    let sealed: Vec<String> = [("one", "v1"), ("two", "v2")]
        .iter()
        .map(|(name, value)| seal_and_apply(cp, &apps, &flags, name, value, &release))
        .collect();
    let deployment = |what: &str| {
        kubectl
            .get_json(["get", "deployment", "sealed-secrets"])
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    };
    let before = deployment("before");
    let secrets_before: Vec<_> = ["one", "two"]
        .iter()
        .map(|n| version_of(&apps, n))
        .collect();
    let reference_env = &old_pod["spec"]["containers"][0]["env"];
    assert!(
        reference_env.to_string().contains("GOMEMLIMIT"),
        "the reference chart's Pod: {reference_env}"
    );

    // The upgrade, with the same values file and nothing else (the image is
    // our chart's default: the install's --set is not reused), by Helm 4 (a
    // release Helm 3 made), which then also uninstalls it.
    release.helm = helm4.with_kubeconfig(cp.kubeconfig());
    release
        .helm
        .run([
            "upgrade",
            "sealed-secrets",
            &our_chart().to_string_lossy(),
            "--namespace",
            home.name(),
            "--values",
            values,
            "--wait",
            "--timeout",
            "180s",
        ])
        .unwrap_or_else(|e| panic!("helm upgrade: {e}\n{}", release.describe()));
    let after = deployment("after");
    assert_eq!(
        after["spec"]["selector"], before["spec"]["selector"],
        "the selector is unchanged"
    );
    assert_eq!(
        after["spec"]["template"]["metadata"]["labels"],
        before["spec"]["template"]["metadata"]["labels"]
    );
    assert_eq!(
        after["metadata"]["labels"]["helm.sh/chart"],
        "sealed-secrets-0.1.0"
    );
    // Ours runs two replicas (one leader) where the reference ran one.
    let new_pod = poll("our two Pods alone and Ready", WAIT, TICK, || {
        let pods = release.pods();
        Ok((pods.len() == 2
            && pods
                .iter()
                .all(|p| p["metadata"]["name"] != old_pod["metadata"]["name"] && is_ready(p)))
        .then(|| pods[0].clone()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", release.describe()));
    assert!(
        new_pod["spec"]["containers"][0]["env"].is_null(),
        "our chart's Pod"
    );
    assert_eq!(new_pod["status"]["containerStatuses"][0]["image"], IMAGE);
    poll("the new controller's watches synced", WAIT, TICK, || {
        Ok(release
            .logs(&new_pod)
            .contains("watches synced")
            .then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", release.describe()));

    // Same keys, same Secrets, still Synced; new ones unseal.
    assert_eq!(key_secrets(&kubectl), keys, "the key Secrets are kept");
    std::thread::sleep(Duration::from_secs(2));
    for (name, before) in ["one", "two"].iter().zip(&secrets_before) {
        let (status, message, object) = synced(&apps, name).expect("a Synced condition");
        assert_eq!(status, "True", "{name}: {message}");
        assert_eq!(
            object["status"]["observedGeneration"],
            object["metadata"]["generation"]
        );
        assert_eq!(
            &version_of(&apps, name),
            before,
            "{name}'s Secret is untouched"
        );
    }
    seal_and_apply(cp, &apps, &flags, "three", "v3", &release);
    let mut validate = vec!["--validate"];
    validate.extend(flags);
    for s in &sealed {
        succeeded(&kubeseal(cp, &validate, s).expect("validate an old SealedSecret"));
    }
    for (kind, name) in [
        ("service", "sealed-secrets-metrics"),
        ("pdb", "sealed-secrets"),
        ("configmap", "sealed-secrets-sealed-secrets-controller"),
    ] {
        assert!(
            kubectl.get_optional(kind, name).expect("get").is_some(),
            "{kind} {name}"
        );
    }
    let history = release
        .helm
        .run([
            "history",
            "sealed-secrets",
            "--namespace",
            home.name(),
            "-o",
            "json",
        ])
        .expect("helm history");
    let history: Value = serde_json::from_str(&history).expect("JSON");
    assert_eq!(history[0]["chart"], "sealed-secrets-2.19.3");
    assert_eq!(history[1]["chart"], "sealed-secrets-0.1.0");
    assert_eq!(history[1]["status"], "deployed");
    let logs = release.logs(&new_pod);
    assert_eq!(permission_errors(&logs), Vec::<&str>::new(), "{logs}");
}
