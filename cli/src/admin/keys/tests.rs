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
fn key_sizes_are_the_supported_ones() {
    assert_eq!(key_size("4096"), Ok(4096));
    assert!(key_size("1024").is_err());
    assert!(key_size("big").is_err());
}
