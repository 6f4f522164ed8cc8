use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use sealed_secrets_api::crypto::{Certificate, KeyRing, PrivateKey, Scope};
use sealed_secrets_api::{
    seal_secret, unseal, Error, SealOptions, SealedSecret, UnsealOptions,
    SCOPE_CLUSTER_WIDE_ANNOTATION, SCOPE_NAMESPACE_WIDE_ANNOTATION,
    SKIP_SET_OWNER_REFERENCES_ANNOTATION,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../crypto/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn key() -> PrivateKey {
    PrivateKey::from_pem(&fixture("key-2048.pem")).unwrap()
}

fn ring() -> KeyRing {
    KeyRing::new(vec![key()])
}

fn options() -> UnsealOptions<'static> {
    UnsealOptions {
        accept_deprecated_v1_data: true,
        templates: &sealed_secrets_api::TEMPLATES,
        preferred_key: None,
    }
}

fn secret(yaml: &str) -> Secret {
    serde_yaml::from_str(yaml).unwrap()
}

fn seal(input: &str, opts: &SealOptions) -> Result<SealedSecret, Error> {
    seal_secret(secret(input), key().public_key(), opts)
}

const FULL: &str = r#"
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
  uid: 1234
  resourceVersion: "99"
  generation: 3
  creationTimestamp: "2024-01-01T00:00:00Z"
  selfLink: /api/v1/namespaces/prod/secrets/db
  deletionTimestamp: "2024-01-02T00:00:00Z"
  deletionGracePeriodSeconds: 30
  labels: {app: db}
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: "{}"
    kubecfg.ksonnet.io/last-applied-configuration: "{}"
    owner: team-a
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: x, uid: u}
type: kubernetes.io/basic-auth
immutable: true
data:
  username: YWRtaW4=
  password: b2xk
stringData:
  password: new
"#;

#[test]
fn sealing_strips_server_fields_and_moves_metadata_into_the_template() {
    let sealed = seal(FULL, &SealOptions::default()).unwrap();
    let json = serde_json::to_value(&sealed).unwrap();
    assert_eq!(json["apiVersion"], "bitnami.com/v1alpha1");
    assert_eq!(json["kind"], "SealedSecret");
    assert_eq!(
        json["metadata"],
        serde_json::json!({"name": "db", "namespace": "prod"}),
        "top-level metadata has only name, namespace and scope"
    );
    assert_eq!(
        json["spec"]["template"],
        serde_json::json!({
            "metadata": {
                "name": "db", "namespace": "prod",
                "labels": {"app": "db"}, "annotations": {"owner": "team-a"}
            },
            "type": "kubernetes.io/basic-auth",
            "immutable": true
        })
    );
    assert!(!json.to_string().contains("creationTimestamp"));
    assert!(json.get("status").is_none());
    let keys: Vec<_> = sealed.spec.encrypted_data.keys().cloned().collect();
    assert_eq!(keys, ["password", "username"]);
}

#[test]
fn string_data_wins_over_data_and_round_trips() {
    let sealed = seal(FULL, &SealOptions::default()).unwrap();
    let out = unseal(&with_uid(sealed), &ring(), &options())
        .unwrap()
        .secret;
    let data = out.data.unwrap();
    assert_eq!(data["password"], ByteString(b"new".to_vec()));
    assert_eq!(data["username"], ByteString(b"admin".to_vec()));
    assert_eq!(out.type_.as_deref(), Some("kubernetes.io/basic-auth"));
    assert_eq!(out.immutable, Some(true));
    assert_eq!(out.metadata.labels.unwrap()["app"], "db");
}

#[test]
fn empty_data_is_refused_unless_allowed() {
    let input = "metadata: {name: a, namespace: b}\n";
    assert!(matches!(
        seal(input, &SealOptions::default()),
        Err(Error::EmptyData)
    ));
    let allowed = SealOptions {
        allow_empty_data: true,
        ..Default::default()
    };
    assert!(seal(input, &allowed)
        .unwrap()
        .spec
        .encrypted_data
        .is_empty());
}

#[test]
fn name_is_required_and_can_be_overridden() {
    let input = "metadata: {namespace: b}\nstringData: {k: v}\n";
    assert!(matches!(
        seal(input, &SealOptions::default()),
        Err(Error::MissingName)
    ));
    let named = SealOptions {
        name: Some("given".into()),
        ..Default::default()
    };
    assert_eq!(
        seal(input, &named).unwrap().metadata.name.as_deref(),
        Some("given")
    );
}

#[test]
fn namespace_rules() {
    let without = "metadata: {name: a}\nstringData: {k: v}\n";
    let with = "metadata: {name: a, namespace: mine}\nstringData: {k: v}\n";
    assert!(matches!(
        seal(without, &SealOptions::default()),
        Err(Error::MissingNamespace)
    ));

    let context_ns = SealOptions {
        default_namespace: Some("ctx".into()),
        ..Default::default()
    };
    assert_eq!(
        seal(without, &context_ns)
            .unwrap()
            .metadata
            .namespace
            .as_deref(),
        Some("ctx")
    );
    // A kubeconfig default never overrides the Secret's own namespace...
    assert_eq!(
        seal(with, &context_ns)
            .unwrap()
            .metadata
            .namespace
            .as_deref(),
        Some("mine")
    );
    // ...but an explicit -n that disagrees is an error.
    let explicit = SealOptions {
        namespace_explicit: true,
        ..context_ns.clone()
    };
    let err = seal(with, &explicit).unwrap_err();
    assert!(matches!(err, Error::NamespaceMismatch { .. }));
    assert!(err.to_string().contains(r#""mine" but "ctx""#), "{err}");

    let cluster = SealOptions {
        scope: Some(Scope::ClusterWide),
        ..Default::default()
    };
    let sealed = seal(without, &cluster).unwrap();
    assert_eq!(sealed.metadata.namespace, None);
}

#[test]
fn scope_flag_overrides_annotations_everywhere() {
    let input = format!(
        "metadata: {{name: a, namespace: b, annotations: {{{SCOPE_CLUSTER_WIDE_ANNOTATION}: 'true'}}}}\nstringData: {{k: v}}\n"
    );
    let sealed = seal(&input, &SealOptions::default()).unwrap();
    assert_eq!(sealed.scope(), Scope::ClusterWide);

    let ns_wide = SealOptions {
        scope: Some(Scope::NamespaceWide),
        ..Default::default()
    };
    let sealed = seal(&input, &ns_wide).unwrap();
    assert_eq!(sealed.scope(), Scope::NamespaceWide);
    let top = sealed.metadata.annotations.clone().unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!(top[SCOPE_NAMESPACE_WIDE_ANNOTATION], "true");
    let tmpl = sealed.spec.template.metadata.annotations.clone().unwrap();
    assert_eq!(tmpl[SCOPE_NAMESPACE_WIDE_ANNOTATION], "true");
    assert!(!tmpl.contains_key(SCOPE_CLUSTER_WIDE_ANNOTATION));

    // Namespace-wide: any name in the namespace unseals.
    let mut renamed = sealed;
    renamed.metadata.name = Some("other".into());
    assert!(unseal(&renamed, &ring(), &options()).is_ok());
    renamed.metadata.namespace = Some("elsewhere".into());
    assert!(unseal(&renamed, &ring(), &options()).is_err());
}

#[test]
fn strict_scope_binds_name_and_namespace() {
    let sealed = seal(
        "metadata: {name: a, namespace: b}\nstringData: {k: v}\n",
        &SealOptions::default(),
    )
    .unwrap();
    let mut moved = sealed.clone();
    moved.metadata.name = Some("c".into());
    let err = unseal(&moved, &ring(), &options()).unwrap_err();
    assert_eq!(err.to_string(), "no key could decrypt secret (k)");
    // The scope is read from the top-level annotations, never the template's.
    let mut widened = sealed;
    widened.spec.template.metadata.annotations = Some(
        [(
            SCOPE_CLUSTER_WIDE_ANNOTATION.to_string(),
            "true".to_string(),
        )]
        .into(),
    );
    widened.metadata.namespace = Some("z".into());
    assert!(unseal(&widened, &ring(), &options()).is_err());
}

fn with_uid(mut s: SealedSecret) -> SealedSecret {
    s.metadata.uid = Some("uid-1".into());
    s
}

#[test]
fn unseal_sets_owner_reference_unless_skipped() {
    let sealed = with_uid(
        seal(
            "metadata: {name: a, namespace: b}\nstringData: {k: v}\n",
            &SealOptions::default(),
        )
        .unwrap(),
    );
    let out = unseal(&sealed, &ring(), &options()).unwrap();
    assert_eq!(out.key.as_ref(), Some(key().fingerprint()));
    let owners = out.secret.metadata.owner_references.unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0].api_version, "bitnami.com/v1alpha1");
    assert_eq!(owners[0].kind, "SealedSecret");
    assert_eq!(owners[0].name, "a");
    assert_eq!(owners[0].uid, "uid-1");
    assert_eq!(owners[0].controller, Some(true));

    let mut skip = sealed;
    skip.spec.template.metadata.annotations = Some(
        [(
            SKIP_SET_OWNER_REFERENCES_ANNOTATION.to_string(),
            "true".to_string(),
        )]
        .into(),
    );
    assert!(unseal(&skip, &ring(), &options())
        .unwrap()
        .secret
        .metadata
        .owner_references
        .is_none());
}

#[test]
fn name_and_namespace_are_forced_over_the_template() {
    let mut sealed = seal(
        "metadata: {name: a, namespace: b}\nstringData: {k: v}\n",
        &SealOptions::default(),
    )
    .unwrap();
    sealed.spec.template.metadata.name = Some("evil".into());
    sealed.spec.template.metadata.namespace = Some("kube-system".into());
    let out = unseal(&sealed, &ring(), &options()).unwrap().secret;
    assert_eq!(out.metadata.name.as_deref(), Some("a"));
    assert_eq!(out.metadata.namespace.as_deref(), Some("b"));
}

#[test]
fn every_failed_item_is_reported_grouped_by_cause() {
    let mut sealed = seal(
        "metadata: {name: a, namespace: b}\nstringData: {k: v, x: y}\n",
        &SealOptions::default(),
    )
    .unwrap();
    let other = PrivateKey::from_pem(&fixture("key-4096.pem")).unwrap();
    let err = unseal(&sealed, &KeyRing::new(vec![other]), &options()).unwrap_err();
    assert_eq!(err.to_string(), "no key could decrypt secret (k, x)");

    sealed
        .spec
        .encrypted_data
        .insert("bad".into(), "%%%".into());
    sealed
        .spec
        .encrypted_data
        .insert("short".into(), "AA==".into());
    let err = unseal(&sealed, &ring(), &options())
        .unwrap_err()
        .to_string();
    // The reference's words: Go's base64 error, and one reason for any
    // value no key opens.
    assert_eq!(
        err,
        "illegal base64 data at input byte 0 (bad)\nno key could decrypt secret (short)"
    );
    assert!(
        !err.contains('v') || !err.contains(": v"),
        "no plaintext in errors"
    );
}

#[test]
fn template_data_renders_with_decrypted_values() {
    let mut sealed = seal(
        "metadata: {name: a, namespace: b}\nstringData: {user: admin, pass: pw}\n",
        &SealOptions::default(),
    )
    .unwrap();
    sealed.spec.template.data = Some(BTreeMap::from([(
        "url".to_string(),
        Some("postgres://{{ .user }}:{{ .pass }}@db".to_string()),
    )]));
    let out = unseal(&sealed, &ring(), &options()).unwrap().secret;
    assert_eq!(
        out.data.unwrap()["url"],
        ByteString(b"postgres://admin:pw@db".to_vec())
    );

    sealed.spec.template.data = Some(BTreeMap::from([(
        "bad".to_string(),
        Some("{{ .user ".to_string()),
    )]));
    let err = unseal(&sealed, &ring(), &options())
        .unwrap_err()
        .to_string();
    assert_eq!(err, "template: bad:1: unclosed action (bad)");
}

#[test]
fn a_template_bound_is_told_from_a_wrong_template() {
    use sealed_secrets_api::gotemplate::Error as Template;
    let mut sealed = seal(
        "metadata: {name: a, namespace: b}\nstringData: {k: v}\n",
        &SealOptions::default(),
    )
    .unwrap();
    sealed.spec.template.data = Some(BTreeMap::from([
        ("bad".to_string(), Some("{{ .k ".to_string())),
        (
            "huge".to_string(),
            Some("{{ range until 2000 }}{{ range until 1000 }}x{{ end }}{{ end }}".to_string()),
        ),
    ]));
    let Err(Error::Items(items)) = unseal(&sealed, &ring(), &options()) else {
        panic!("the templates fail");
    };
    assert!(items.only_templates());
    let kinds: Vec<(&str, bool)> = items
        .templates()
        .map(|(key, e)| {
            let bound = matches!(e, Error::Template(Template::Limit(_)));
            (key, bound)
        })
        .collect();
    assert_eq!(kinds, [("bad", false), ("huge", true)]);
    assert!(matches!(
        items.templates().next(),
        Some((_, Error::Template(Template::Parse(_))))
    ));
}

#[test]
fn template_data_follows_reference_v0_40_rules() {
    let mut sealed = seal(
        "metadata: {name: a, namespace: b}\nstringData: {user: admin, pass: pw, gone: x}\n",
        &SealOptions::default(),
    )
    .unwrap();
    sealed.spec.template.data = Some(BTreeMap::from([
        // A plain sibling is in the context of the other templates.
        ("host".to_string(), Some("db.local".to_string())),
        (
            "url".to_string(),
            Some("{{ .user }}@{{ .host }}".to_string()),
        ),
        // An encrypted value wins over a template of the same key, in the
        // context and in the Secret.
        ("user".to_string(), Some("shadow".to_string())),
        // null removes the key from the Secret.
        ("gone".to_string(), None),
    ]));
    let data = unseal(&sealed, &ring(), &options())
        .unwrap()
        .secret
        .data
        .unwrap();
    assert_eq!(data["url"], ByteString(b"admin@db.local".to_vec()));
    assert_eq!(data["user"], ByteString(b"admin".to_vec()));
    assert_eq!(data["host"], ByteString(b"db.local".to_vec()));
    assert!(!data.contains_key("gone"));
    assert_eq!(data["pass"], ByteString(b"pw".to_vec()));

    // The JSON form: `null` parses and survives a round trip.
    let json = serde_json::to_string(&sealed).unwrap();
    assert!(json.contains(r#""gone":null"#), "{json}");
    let back: SealedSecret = serde_json::from_str(&json).unwrap();
    assert_eq!(back.spec, sealed.spec);
}

#[test]
fn binary_values_reach_templates_as_bytes() {
    let mut sealed = seal(
        "metadata: {name: a, namespace: b}\ndata: {bin: /wD+}\n",
        &SealOptions::default(),
    )
    .unwrap();
    sealed.spec.template.data = Some(BTreeMap::from([(
        "copy".to_string(),
        Some("{{ .bin }}".to_string()),
    )]));
    let data = unseal(&sealed, &ring(), &options())
        .unwrap()
        .secret
        .data
        .unwrap();
    assert_eq!(data["copy"], ByteString(vec![0xff, 0x00, 0xfe]));
}

#[test]
fn deprecated_data_blob() {
    let inner = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x","labels":{"l":"1"}},"data":{"k":"dg=="}}"#;
    let label = Scope::Strict.label("b", "a");
    let blob =
        sealed_secrets_api::crypto::seal(key().public_key(), inner.as_bytes(), &label).unwrap();
    let mut sealed = seal(
        "metadata: {name: a, namespace: b}\n",
        &SealOptions {
            allow_empty_data: true,
            ..Default::default()
        },
    )
    .unwrap();
    sealed.spec.data = Some(ByteString(blob));
    let out = unseal(&sealed, &ring(), &options()).unwrap().secret;
    assert_eq!(out.metadata.name.as_deref(), Some("a"));
    assert_eq!(out.data.unwrap()["k"], ByteString(b"v".to_vec()));

    let strict = UnsealOptions {
        accept_deprecated_v1_data: false,
        ..options()
    };
    assert!(matches!(
        unseal(&sealed, &ring(), &strict),
        Err(Error::DeprecatedData)
    ));
    sealed.spec.encrypted_data.insert("k".into(), "x".into());
    assert!(matches!(
        unseal(&sealed, &ring(), &options()),
        Err(Error::BothDataFields)
    ));
}

#[test]
fn a_deprecated_blob_that_is_no_secret_is_not_shown() {
    // serde's message quotes what it did not expect: here, the decrypted blob.
    let label = Scope::Strict.label("b", "a");
    let mut sealed = seal(
        "metadata: {name: a, namespace: b}\n",
        &SealOptions {
            allow_empty_data: true,
            ..Default::default()
        },
    )
    .unwrap();
    for inner in [
        r#""hunter2-password""#,
        r#"{"data": {"k": "hunter2-password"}}"#,
        r#"{"kind": 7, "metadata": {"name": "hunter2-password"}, "x": tru"#,
    ] {
        let blob =
            sealed_secrets_api::crypto::seal(key().public_key(), inner.as_bytes(), &label).unwrap();
        sealed.spec.data = Some(ByteString(blob));
        let err = unseal(&sealed, &ring(), &options()).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(
            matches!(err, Error::DeprecatedDataNotASecret { .. }),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{inner}: {text}");
        assert!(text.contains("line 1 column"), "{text}");
    }
}

#[test]
fn unseals_what_the_reference_kubeseal_sealed() {
    let four_k = PrivateKey::from_pem(&fixture("key-4096.pem")).unwrap();
    let keys = KeyRing::new(vec![key(), four_k]);
    for file in ["reference-sealed.yaml", "reference-sealed.json"] {
        let text = String::from_utf8(fixture(file)).unwrap();
        let sealed: SealedSecret = serde_yaml::from_str(text.trim_start_matches("---\n")).unwrap();
        let out = unseal(&sealed, &keys, &options()).unwrap().secret;
        let data = out.data.unwrap();
        assert_eq!(data["username"], ByteString(b"admin".to_vec()), "{file}");
        assert_eq!(data["password"], ByteString(b"s3cr3t".to_vec()), "{file}");
        assert_eq!(out.type_.as_deref(), Some("kubernetes.io/basic-auth"));
        assert_eq!(out.metadata.labels.unwrap()["app"], "demo");
        assert_eq!(out.metadata.annotations.unwrap()["team"], "platform");
    }
    // And the fixture certificate parses to the same key.
    let cert = Certificate::from_pem(&fixture("cert-4096.pem")).unwrap();
    assert_eq!(
        cert.public_key().fingerprint(),
        keys.keys()[1].fingerprint()
    );
}

#[test]
fn malformed_encrypted_data_does_not_fail_deserialization() {
    let sealed: SealedSecret = serde_json::from_str(
        r#"{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"name":"a"},"spec":{"encryptedData":{"k":1}}}"#,
    )
    .unwrap();
    assert!(sealed.spec.encrypted_data.is_empty());
}

#[test]
fn reencrypt_moves_every_item_to_the_new_key_without_rendering_templates() {
    let old = key();
    let new = PrivateKey::from_pem(&fixture("key-4096.pem")).unwrap();
    let mut sealed = with_uid(
        seal(
            "metadata: {name: a, namespace: b}\nstringData: {k: v, x: y}\n",
            &SealOptions::default(),
        )
        .unwrap(),
    );
    sealed.spec.template.data = Some(BTreeMap::from([(
        "t".to_string(),
        Some("{{ .k }}".to_string()),
    )]));
    let both = KeyRing::new(vec![new.clone(), old.clone()]);
    sealed_secrets_api::verify(&sealed, &both).unwrap();

    let rotated = sealed_secrets_api::reencrypt(&sealed, &both, new.public_key()).unwrap();
    assert_eq!(
        rotated.spec.template, sealed.spec.template,
        "template kept verbatim"
    );
    let only_new = KeyRing::new(vec![new]);
    let out = unseal(&rotated, &only_new, &options()).unwrap().secret;
    assert_eq!(out.data.unwrap()["t"], ByteString(b"v".to_vec()));
    assert!(sealed_secrets_api::verify(&sealed, &only_new).is_err());
    let err = sealed_secrets_api::reencrypt(&sealed, &only_new, old.public_key()).unwrap_err();
    assert_eq!(err.to_string(), "no key could decrypt secret (k, x)");
}

#[test]
fn verify_stops_at_the_first_item_that_fails() {
    let old = key();
    let new = PrivateKey::from_pem(&fixture("key-4096.pem")).unwrap();
    let sealed = seal(
        "metadata: {name: a, namespace: b}\nstringData: {k: v, x: y}\n",
        &SealOptions::default(),
    )
    .unwrap();
    sealed_secrets_api::verify(&sealed, &KeyRing::new(vec![old])).unwrap();
    // Both items fail under `new`; only the first is tried.
    let err = sealed_secrets_api::verify(&sealed, &KeyRing::new(vec![new])).unwrap_err();
    assert_eq!(err.to_string(), "no key could decrypt secret (k)");
}

#[test]
fn managed_fields_are_not_copied_into_the_template() {
    let input = "metadata:\n  name: a\n  namespace: b\n  managedFields:\n  - {manager: kubectl, operation: Apply}\nstringData: {k: v}\n";
    let sealed = seal(input, &SealOptions::default()).unwrap();
    assert_eq!(sealed.spec.template.metadata.managed_fields, None);
    assert!(!serde_json::to_string(&sealed)
        .unwrap()
        .contains("managedFields"));
}
