use super::*;

fn specs(texts: &[&str]) -> Vec<CertSpec> {
    texts.iter().map(|t| CertSpec::parse(t)).collect()
}

fn w(path: &str) -> Option<OutputPath<'_>> {
    Some(OutputPath {
        flag: "-w",
        path: Path::new(path),
    })
}

fn paths(planned: &[Planned]) -> Vec<Option<String>> {
    planned
        .iter()
        .map(|p| p.path.as_ref().map(|p| p.display().to_string()))
        .collect()
}

fn refusal(certs: &[&str], output: Option<OutputPath<'_>>) -> String {
    plan(&specs(certs), output).unwrap_err().to_string()
}

#[test]
fn one_plain_cert_is_a_plain_run() {
    let planned = plan(&specs(&["c/oslo.pem"]), w("out/{x}.yaml")).unwrap();
    assert_eq!(
        planned,
        [Planned {
            cluster: None,
            source: CertSource::Location("c/oslo.pem".into()),
            path: Some("out/{x}.yaml".into()),
            copy_of: None,
            layout_says: None,
        }]
    );
    // A stem that is no name does not matter when no name is needed.
    assert_eq!(
        plan(&specs(&["my.cert.pem"]), None).unwrap()[0].cluster,
        None
    );
    let planned = plan(&[], w("out.yaml")).unwrap();
    assert_eq!(planned[0].source, CertSource::Controller);
}

#[test]
fn clusters_are_named_and_paths_expanded_in_order() {
    let planned = plan(
        &specs(&["oslo=a.pem", "https://h/v1/bergen.pem", "c/tromso.pem"]),
        w("clusters/{cluster}/db-{cluster}.yaml"),
    )
    .unwrap();
    let names: Vec<_> = planned.iter().map(|p| p.cluster.clone().unwrap()).collect();
    assert_eq!(names, ["oslo", "bergen", "tromso"]);
    assert_eq!(
        paths(&planned),
        [
            Some("clusters/oslo/db-oslo.yaml".into()),
            Some("clusters/bergen/db-bergen.yaml".into()),
            Some("clusters/tromso/db-tromso.yaml".into())
        ]
    );
    assert_eq!(
        planned[1].source,
        CertSource::Location("https://h/v1/bergen.pem".into())
    );
    let stdout = plan(&specs(&["a.pem", "b.pem"]), None).unwrap();
    assert_eq!(paths(&stdout), [None, None]);
}

#[test]
fn one_named_cert_or_a_placeholder_expands() {
    let planned = plan(&specs(&["oslo=a.pem"]), w("x/{cluster}.yaml")).unwrap();
    assert_eq!(planned[0].cluster.as_deref(), Some("oslo"));
    assert_eq!(paths(&planned), [Some("x/oslo.yaml".into())]);
    let planned = plan(&specs(&["certs/bergen.pem"]), w("x/{cluster}.yaml")).unwrap();
    assert_eq!(paths(&planned), [Some("x/bergen.yaml".into())]);
    // Named, without placeholder: the one path as given.
    let planned = plan(&specs(&["oslo=a.pem"]), w("x/db.yaml")).unwrap();
    assert_eq!(paths(&planned), [Some("x/db.yaml".into())]);
}

#[test]
fn refusals() {
    assert_eq!(
        refusal(&["oslo=a.pem", "bergen=b.pem", "tromso=c.pem"], w("clusters/app.yaml")),
        "-w clusters/app.yaml names one file but 3 certificates were given (oslo, bergen, tromso): put {cluster} in the path, e.g. -w 'clusters/{cluster}/app.yaml'"
    );
    assert_eq!(
        refusal(&["https://a/cert.pem", "https://b/cert.pem"], None),
        "2 certificates are named \"cert\" (https://a/cert.pem, https://b/cert.pem): name them, e.g. --cert oslo=https://a/cert.pem"
    );
    assert_eq!(
        refusal(&["x=a.pem", "x.pem"], None),
        "2 certificates are named \"x\" (a.pem, x.pem): name them, e.g. --cert oslo=a.pem"
    );
    assert!(refusal(&["a.pem", "my.cert.pem"], None)
        .starts_with("--cert my.cert.pem gives no cluster name"));
    assert_eq!(
        refusal(&["a.pem", "b.pem"], w("out/{cluster}/{name}.yaml")),
        "unknown placeholder {name} in -w out/{cluster}/{name}.yaml: only {cluster} is replaced"
    );
    assert_eq!(
        refusal(&[], w("out/{cluster}.yaml")),
        "{cluster} appears in -w but no certificate names a cluster: pass --cert NAME=FILE, once per cluster, or write below a .sealed-secrets.yaml that lists the clusters"
    );
    let merge = Some(OutputPath {
        flag: "--merge-into",
        path: Path::new("db.yaml"),
    });
    assert_eq!(
        refusal(&["a.pem", "b.pem"], merge),
        "--merge-into db.yaml names one file but 2 certificates were given (a, b): put {cluster} in the path, e.g. --merge-into '{cluster}/db.yaml'"
    );
}

#[test]
fn a_certificate_error_names_its_cluster() {
    let planned = plan(&specs(&["oslo=/nonexistent/oslo.pem"]), None).unwrap();
    let err = load(planned, || unreachable!("no controller without --cert"))
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        err.starts_with("cannot use the certificate of cluster oslo (/nonexistent/oslo.pem): cannot read certificate file"),
        "{err}"
    );
}
