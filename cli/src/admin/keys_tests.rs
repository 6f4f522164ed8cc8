//! Unit tests of `keys.rs`.
use super::*;

fn sealed(ns: &str, name: &str, status: Value, generation: i64) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"namespace": ns, "name": name, "generation": generation},
        "spec": {"encryptedData": {}},
        "status": status,
    }))
    .expect("object")
}

#[test]
fn usage_counts_recorded_keys_and_unknowns() {
    let mut usage = Usage::default();
    usage.add(&sealed(
        "a",
        "x",
        json!({"keyFingerprint": "SHA256:k1", "observedGeneration": 1}),
        1,
    ));
    usage.add(&sealed("b", "y", json!({"keyFingerprint": "SHA256:k1"}), 3));
    usage.add(&sealed(
        "a",
        "z",
        json!({"keyFingerprint": "SHA256:k2", "observedGeneration": 1}),
        2,
    ));
    usage.add(&sealed("a", "w", json!({"conditions": []}), 1));
    usage.add(&sealed("a", "v", json!({"keyFingerprint": ""}), 1));
    assert_eq!(usage.total, 5);
    assert_eq!(usage.count("SHA256:k1"), 2);
    assert_eq!(usage.by_key["SHA256:k1"], ["a/x", "b/y"]);
    // Changed since the controller last looked: its key is unknown.
    assert_eq!(usage.count("SHA256:k2"), 0);
    assert_eq!(usage.unknown, ["a/z", "a/w", "a/v"]);
    assert_eq!(usage.elsewhere(&[]), 2);
}

#[test]
fn backups_are_lists_secrets_or_documents() {
    let one = "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {x: eQ==}\n";
    assert_eq!(secrets_in(one).expect("secret").len(), 1);
    let docs = format!("---\n{one}---\n{}", one.replace("name: a", "name: b"));
    assert_eq!(secrets_in(&docs).expect("documents").len(), 2);
    let list = r#"{"apiVersion":"v1","kind":"List","items":[{"kind":"Secret","metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"#;
    let names: Vec<String> = secrets_in(list)
        .expect("list")
        .iter()
        .map(secret_name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    let err =
        secrets_in(r#"{"kind":"List","items":[{"kind":"ConfigMap"}]}"#).expect_err("not a Secret");
    assert!(
        err.to_string()
            .contains("document 1, item 1 is a ConfigMap"),
        "{err}"
    );
}

#[test]
fn backup_items_lose_server_fields_only() {
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "k", "namespace": "ns", "uid": "u", "resourceVersion": "1",
            "creationTimestamp": "2024-01-01T00:00:00Z", "managedFields": [{"manager": "m"}],
            "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "p"}],
            "labels": {"l": "v"}},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "eA=="},
    }))
    .expect("secret");
    let item = backup_item(&secret).expect("item");
    assert_eq!(
        item["metadata"],
        json!({"name": "k", "namespace": "ns", "labels": {"l": "v"}})
    );
    assert_eq!(item["kind"], "Secret");
    assert_eq!(item["apiVersion"], "v1");
    assert_eq!(item["data"]["tls.crt"], "eA==");
}

#[test]
fn key_sizes_are_the_supported_ones() {
    assert_eq!(key_size("4096"), Ok(4096));
    assert!(key_size("1024").is_err());
    assert!(key_size("big").is_err());
}
