use clap::Parser as _;
use sealed_secrets_api::crypto::PrivateKey;
use sealed_secrets_api::{SealedSecretSpec, SEALED_WITH_ANNOTATION};

use super::*;

#[derive(clap::Parser)]
struct Flags {
    #[command(flatten)]
    cluster: ClusterArgs,
}

fn flags(args: &[&str]) -> ClusterArgs {
    Flags::try_parse_from(std::iter::once("kubeseal").chain(args.iter().copied()))
        .expect("flags parse")
        .cluster
}

fn cluster(context: Option<&str>, namespace: Option<&str>, cert_location: &str) -> Cluster {
    Cluster {
        name: "oslo".into(),
        cert: "certs/oslo.pem".into(),
        cert_location: cert_location.into(),
        context: context.map(str::to_string),
        controller_namespace: namespace.map(str::to_string),
        controller_name: None,
        copy_to: None,
    }
}

fn recording(value: Option<&str>) -> SealedSecret {
    let mut sealed = SealedSecret::new("db", SealedSecretSpec::default());
    if let Some(value) = value {
        sealed.metadata.annotations =
            Some([(SEALED_WITH_ANNOTATION.to_string(), value.to_string())].into());
    }
    sealed
}

#[test]
fn up_to_date_only_when_the_record_is_exactly_the_clusters_key() {
    let [key, other] = [(); 2].map(|_| PrivateKey::generate(2048).expect("keygen"));
    let (fp, other) = (key.fingerprint(), other.fingerprint().to_string());
    let cases = [
        ("no record", None, false),
        ("its key", Some(fp.to_string()), true),
        ("its key, spaced", Some(format!(" {fp} ")), true),
        ("another key", Some(other.clone()), false),
        ("its key and another", Some(format!("{fp},{other}")), false),
        ("empty", Some(String::new()), false),
    ];
    for (what, value, want) in cases {
        assert_eq!(
            records_only(&recording(value.as_deref()), fp),
            want,
            "{what}"
        );
    }
}

#[test]
fn the_layout_says_where_the_controller_is_and_flags_fill_the_rest() {
    let given = flags(&[
        "--context",
        "x",
        "--controller-name",
        "ss",
        "--kubeconfig",
        "k",
    ]);
    let reached = Reached::new(
        &cluster(Some("oslo-admin"), Some("oslo-keys"), "/r/c.pem"),
        &given,
    );
    assert_eq!(reached.args.context.as_deref(), Some("oslo-admin"));
    assert_eq!(reached.args.controller_namespace, "oslo-keys");
    assert_eq!(reached.args.controller_name, "ss");
    assert_eq!(reached.args.kubeconfig.as_deref(), Some(Path::new("k")));
    assert_eq!(
        reached.describe(),
        "the controller of cluster oslo (context oslo-admin, oslo-keys/ss)"
    );

    let reached = Reached::new(&cluster(None, None, "/r/c.pem"), &flags(&[]));
    assert_eq!(reached.args.context, None);
    assert_eq!(
        reached.describe(),
        "the controller of cluster oslo (the current context, kube-system/sealed-secrets-controller)"
    );
}

#[test]
fn a_mismatch_says_how_to_update_the_certificate() {
    let [serving, layout] = [(); 2].map(|_| {
        PrivateKey::generate(2048)
            .expect("keygen")
            .fingerprint()
            .clone()
    });
    let reached = Reached::new(
        &cluster(
            Some("oslo-admin"),
            Some("oslo keys"),
            "/nowhere/certs/oslo.pem",
        ),
        &flags(&[]),
    );
    let said = reached.mismatch(&serving, &layout);
    assert_eq!(
        said,
        format!(
            "the controller of cluster oslo (context oslo-admin, oslo keys/sealed-secrets-controller) seals with {serving}, \
             but certs/oslo.pem is {layout}: update it (kubeseal --context oslo-admin --controller-namespace 'oslo keys' \
             --fetch-cert -w /nowhere/certs/oslo.pem) and run again"
        )
    );

    let reached = Reached::new(&cluster(None, None, "/nowhere/certs/oslo.pem"), &flags(&[]));
    assert_eq!(
        reached.fetch_command(),
        "kubeseal --fetch-cert -w /nowhere/certs/oslo.pem",
        "defaults and the current context are not repeated"
    );

    let mut by_url = cluster(None, None, "https://oslo.example/v1/cert.pem");
    by_url.cert = by_url.cert_location.clone();
    let said = Reached::new(&by_url, &flags(&[])).mismatch(&serving, &layout);
    assert!(
        said.ends_with("update what https://oslo.example/v1/cert.pem serves and run again"),
        "{said}"
    );
}

#[test]
fn the_certificate_path_is_shown_from_the_current_folder() {
    let here = std::fs::canonicalize(std::env::current_dir().expect("cwd")).expect("canonical");
    assert_eq!(
        shown_from_here(&here.join("certs/oslo.pem")),
        "certs/oslo.pem"
    );
    assert_eq!(
        shown_from_here(Path::new("/elsewhere/x.pem")),
        "/elsewhere/x.pem"
    );
}

#[test]
fn shell_words_are_quoted_when_needed() {
    assert_eq!(quoted("certs/oslo.pem"), "certs/oslo.pem");
    assert_eq!(quoted("a b"), "'a b'");
    assert_eq!(quoted("it's"), r"'it'\''s'");
    assert_eq!(quoted(""), "''");
}
