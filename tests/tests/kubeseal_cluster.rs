//! kubeseal's default path: the certificate, verify and rotate through the API
//! server's service proxy to a controller running in the node.

use std::time::Duration;

use sealed_secrets_e2e::controller::ControllerOptions;
use sealed_secrets_e2e::kubeconfig::token_kubeconfig;
use sealed_secrets_e2e::kubeseal::{kubeseal, reference_kubeseal, succeeded};
use sealed_secrets_e2e::{poll, ControlPlane, TestNamespace};

fn secret(ns: &str, name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\nstringData: {{k: {value}}}\n")
}

fn refused(out: &std::process::Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure");
    assert!(err.contains(needle), "expected {needle:?} in {err}");
}

fn wait_secret(ns: &TestNamespace, name: &str) {
    poll(
        &format!("secret {name}"),
        Duration::from_secs(60),
        Duration::from_millis(250),
        || Ok(ns.kubectl().get_optional("secret", name)?.map(|_| ())),
    )
    .expect("secret appears");
}

/// Through the service proxy to the controller in `ns`: the certificate,
/// sealing "ours" (applied and unsealed), --validate of it and refusal of a
/// renamed copy. Returns the sealed YAML.
fn fetch_seal_and_validate(cp: &ControlPlane, ns: &TestNamespace) -> String {
    let target = ["--controller-namespace", ns.name()];
    let cert = succeeded(
        &kubeseal(cp, &[&target[..], &["--fetch-cert"]].concat(), "").expect("fetch-cert"),
    );
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
    let sealed = succeeded(
        &kubeseal(
            cp,
            &[&target[..], &["-o", "yaml"]].concat(),
            &secret(ns.name(), "ours", "v1"),
        )
        .expect("seal"),
    );
    ns.kubectl().apply(&sealed).expect("apply");
    wait_secret(ns, "ours");
    succeeded(&kubeseal(cp, &[&target[..], &["--validate"]].concat(), &sealed).expect("validate"));
    let moved = sealed.replace("name: ours", "name: moved");
    refused(
        &kubeseal(cp, &[&target[..], &["--validate"]].concat(), &moved).expect("validate"),
        "unable to decrypt sealed secret: moved",
    );
    sealed
}

#[test]
fn seal_validate_and_reencrypt_through_the_service_proxy() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "proxy").expect("namespace");
    let _controller = ControllerOptions::for_namespace(&ns)
        .in_node()
        .start(cp)
        .expect("controller in node");
    let target = ["--controller-namespace", ns.name()];
    // Ours here, the reference below, both with no --cert.
    let sealed = fetch_seal_and_validate(cp, &ns);
    if cp.reference_bin_dir().join("kubeseal").is_file() {
        let by_ref = succeeded(
            &reference_kubeseal(
                cp,
                &[&target[..], &["-o", "yaml"]].concat(),
                &secret(ns.name(), "theirs", "v2"),
            )
            .expect("ref seal"),
        );
        ns.kubectl().apply(&by_ref).expect("apply");
        wait_secret(&ns, "theirs");
        succeeded(
            &reference_kubeseal(cp, &[&target[..], &["--validate"]].concat(), &sealed)
                .expect("ref validate"),
        );
    } else {
        assert_ne!(
            std::env::var("REQUIRE_REFERENCE").as_deref(),
            Ok("1"),
            "REQUIRE_REFERENCE=1 but the reference kubeseal is missing: run scripts/install-tools"
        );
        eprintln!("SKIPPED: reference kubeseal not installed; run scripts/install-tools");
    }

    // --re-encrypt -f rewrites the file in place, and the result still unseals.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("ours.yaml");
    std::fs::write(&file, &sealed).expect("write");
    let path = file.to_string_lossy().into_owned();
    let out = kubeseal(
        cp,
        &[&target[..], &["--re-encrypt", "-f", &path]].concat(),
        "",
    )
    .expect("re-encrypt");
    assert!(succeeded(&out).is_empty(), "writes the file, not stdout");
    let rotated = std::fs::read_to_string(&file).expect("read");
    assert!(rotated.starts_with("---\n") && rotated != sealed);
    succeeded(
        &kubeseal(
            cp,
            &[&target[..], &["--validate", "-f", &path]].concat(),
            "",
        )
        .expect("validate rotated"),
    );
}

#[test]
fn errors_say_what_went_wrong_and_what_to_try() {
    let cp = ControlPlane::shared().expect("control plane");
    let ns = TestNamespace::create(cp, "proxyerr").expect("namespace");
    let input = secret(ns.name(), "x", "v");

    let out = kubeseal(cp, &["--controller-namespace", ns.name()], &input).expect("run");
    refused(&out, "--controller-name and --controller-namespace");

    // A Service with no endpoints behind it.
    ns.kubectl()
        .apply("apiVersion: v1\nkind: Service\nmetadata: {name: sealed-secrets-controller}\nspec: {ports: [{name: http, port: 8080}]}\n")
        .expect("service");
    let out = kubeseal(cp, &["--controller-namespace", ns.name()], &input).expect("run");
    refused(&out, "the controller is not running or not ready");

    // A user without rights.
    ns.kubectl()
        .run(["create", "serviceaccount", "nobody"])
        .expect("sa");
    let token = ns
        .kubectl()
        .run(["create", "token", "nobody"])
        .expect("token");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = token_kubeconfig(cp, &dir.path().join("nobody.kubeconfig"), "nobody", &token)
        .expect("kubeconfig");
    let out = kubeseal(
        cp,
        &["--controller-namespace", ns.name(), "--kubeconfig", &config],
        &input,
    )
    .expect("run");
    refused(&out, "forbidden");
    refused(&out, "--cert");
}

#[test]
fn our_kubeseal_against_the_reference_controller() {
    let cp = ControlPlane::shared().expect("control plane");
    let reference = cp.reference_bin_dir().join("controller");
    if !reference.is_file() {
        assert_ne!(
            std::env::var("REQUIRE_REFERENCE").as_deref(),
            Ok("1"),
            "REQUIRE_REFERENCE=1 but {} is missing: run scripts/install-tools",
            reference.display()
        );
        eprintln!("SKIPPED: reference controller not installed; run scripts/install-tools");
        return;
    }
    let ns = TestNamespace::create(cp, "refctl").expect("namespace");
    let _controller = ControllerOptions::for_namespace(&ns)
        .binary(reference)
        .in_cluster()
        .in_node()
        .start(cp)
        .expect("reference controller in node");
    let target = ["--controller-namespace", ns.name()];
    let sealed = fetch_seal_and_validate(cp, &ns);
    let rotated = succeeded(
        &kubeseal(
            cp,
            &[&target[..], &["--re-encrypt", "-o", "yaml"]].concat(),
            &sealed,
        )
        .expect("re-encrypt"),
    );
    assert!(rotated.contains("kind: SealedSecret") && rotated != sealed);
    succeeded(
        &kubeseal(cp, &[&target[..], &["--validate"]].concat(), &rotated)
            .expect("validate rotated"),
    );
}
