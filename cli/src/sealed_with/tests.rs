use serde_json::json;

use super::*;

fn key(bits: u32) -> sealed_secrets_api::crypto::PublicKey {
    let pem = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../crypto/tests/fixtures/cert-{bits}.pem")),
    )
    .expect("fixture");
    crate::cert::parse_public_key(&pem, std::time::SystemTime::now()).expect("key")
}

fn sealed(recorded: Option<&str>) -> SealedSecret {
    let mut sealed = SealedSecret::new("db", Default::default());
    if let Some(fp) = recorded {
        sealed.metadata.annotations =
            Some([(SEALED_WITH_ANNOTATION.to_string(), fp.to_string())].into());
    }
    sealed
}

#[test]
fn the_key_is_recorded_on_the_sealed_secret_not_its_template() {
    let key = key(2048);
    for metadata in [
        json!({"name": "s"}),
        json!({"name": "s", "annotations": null}),
        json!({"name": "s", "annotations": {"team": "a"}}),
    ] {
        let mut doc = json!({"metadata": metadata, "spec": {"template": {"metadata": {"annotations": {"x": "y"}}}}});
        record_in_document(&mut doc, key.fingerprint()).expect("recorded");
        assert_eq!(
            doc["metadata"]["annotations"][SEALED_WITH_ANNOTATION],
            key.fingerprint().to_string()
        );
        assert_eq!(
            doc["spec"]["template"]["metadata"]["annotations"],
            json!({"x": "y"})
        );
    }
    let mut bad = json!({"metadata": {"annotations": []}});
    assert!(record_in_document(&mut bad, key.fingerprint()).is_err());
}

/// A plain run adds nothing; a file that records a key keeps a true record.
#[test]
fn sealing_records_only_through_a_layout_or_when_already_recorded() {
    let fp = key(2048).fingerprint().to_string();
    let mut plain = sealed(None);
    after_sealing(&mut plain, key(2048).fingerprint(), false);
    assert_eq!(plain.metadata.annotations, None);

    let mut through = sealed(None);
    after_sealing(&mut through, key(2048).fingerprint(), true);
    assert_eq!(recorded(&through), Some(BTreeSet::from([fp.clone()])));

    let mut old = sealed(Some("old"));
    after_sealing(&mut old, key(2048).fingerprint(), false);
    assert_eq!(recorded(&old), Some(BTreeSet::from([fp])));

    forget(&mut old);
    assert_eq!(old.metadata.annotations, None, "nothing else was there");
}

#[test]
fn merging_adds_the_key_or_records_it_only_when_exact() {
    let (k, fp) = (key(2048), key(2048).fingerprint().to_string());
    let cases = [
        // before, replaced every item, through a layout => record
        (Some("old"), false, false, Some(vec!["old", fp.as_str()])),
        (Some("old"), true, false, Some(vec![fp.as_str()])),
        (None, false, true, None),
        (None, true, true, Some(vec![fp.as_str()])),
        (None, true, false, None),
    ];
    for (before, replaced_all, layout, expected) in cases {
        let mut merged = sealed(before);
        let was = recorded(&merged);
        after_merging(&mut merged, was, replaced_all, k.fingerprint(), layout);
        let expected = expected.map(|v| v.into_iter().map(str::to_string).collect());
        assert_eq!(
            recorded(&merged),
            expected,
            "{before:?} {replaced_all} {layout}"
        );
    }
}

#[test]
fn a_record_is_forgotten_from_a_document_and_nothing_else() {
    let cases = [
        (
            json!({"metadata": {"name": "s", "annotations": {SEALED_WITH_ANNOTATION: "SHA256:x"}}}),
            json!({"metadata": {"name": "s"}}),
        ),
        (
            json!({"metadata": {"name": "s", "annotations": {SEALED_WITH_ANNOTATION: "SHA256:x", "team": "a"}}}),
            json!({"metadata": {"name": "s", "annotations": {"team": "a"}}}),
        ),
        (
            json!({"metadata": {"name": "s", "annotations": {"team": "a"}}}),
            json!({"metadata": {"name": "s", "annotations": {"team": "a"}}}),
        ),
        (
            json!({"metadata": {"name": "s"}}),
            json!({"metadata": {"name": "s"}}),
        ),
        (json!({"kind": "x"}), json!({"kind": "x"})),
    ];
    for (mut doc, want) in cases {
        forget_in_document(&mut doc);
        assert_eq!(doc, want);
    }
}
