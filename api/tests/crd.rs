//! The CustomResourceDefinition generated from the Rust types: it must match the
//! checked-in `manifests/crd.yaml` and the Helm chart's
//! `charts/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml`, and accept every
//! object the reference CRD (Bitnami Sealed Secrets) accepts.
//!
//! Regenerate the checked-in files after changing `api/src/types.rs` with
//!
//! ```sh
//! scripts/gen-crd
//! # or: UPDATE_CRD=1 cargo test -p sealed-secrets-api --test crd
//! ```
//!
//! The comparison with the reference reads its CRD from the reference source:
//! `$SEALED_SECRETS_REF_SRC`, else `/tmp/ref-src`, else the Go module cache
//! entry `scripts/install-tools` downloads
//! (`$GOMODCACHE/github.com/bitnami-labs/sealed-secrets@<version>`). Without
//! any of them that test is skipped with a message, unless
//! `REQUIRE_REFERENCE=1` (or `REQUIRE_REF_SRC=1`), which makes it fail.

use std::path::{Path, PathBuf};

use kube::CustomResourceExt;
use sealed_secrets_api::{crd, SealedSecret};
use serde_json::{json, Value};

const REGENERATE: &str =
    "scripts/gen-crd (or: UPDATE_CRD=1 cargo test -p sealed-secrets-api --test crd)";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("api/ has a parent")
        .to_path_buf()
}

/// The generated CRD as JSON, the form the API server sees.
fn generated() -> Value {
    serde_json::to_value(SealedSecret::crd()).expect("CRD serialises")
}

fn schema_of(crd: &Value) -> &Value {
    &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
}

/// Every checked-in copy (`manifests/crd.yaml` and the Helm chart's
/// `crds/`) is exactly the generator's output, so neither can drift.
#[test]
fn checked_in_crds_match_the_types() {
    let expected = crd::render().expect("CRD renders as YAML");
    let update = std::env::var_os("UPDATE_CRD").is_some_and(|v| v != "0" && !v.is_empty());
    assert!(
        crd::OUTPUTS.contains(&"manifests/crd.yaml")
            && crd::OUTPUTS
                .iter()
                .any(|p| p.starts_with("charts/sealed-secrets/crds/")),
        "the generator writes the manifests' and the chart's CRD: {:?}",
        crd::OUTPUTS
    );
    // scripts/gen-crd writes the same files.
    let script = std::fs::read_to_string(workspace_root().join("scripts/gen-crd"))
        .expect("read scripts/gen-crd");
    for out in crd::OUTPUTS {
        assert!(script.contains(out), "scripts/gen-crd does not write {out}");
    }
    for out in crd::OUTPUTS {
        let path = workspace_root().join(out);
        if update {
            std::fs::write(&path, &expected).expect("write the CRD");
            eprintln!("wrote {}", path.display());
            continue;
        }
        let actual = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e}\nGenerate it with: {REGENERATE}",
                path.display()
            )
        });
        if actual != expected {
            let first = actual
                .lines()
                .zip(expected.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(actual.lines().count().min(expected.lines().count()));
            panic!(
                "{} is out of date with api/src/types.rs (first difference at line {}).\n\
                 Regenerate it with: {REGENERATE}",
                path.display(),
                first + 1
            );
        }
        // And it is a CRD the API server can decode.
        let parsed: Value = serde_yaml::from_str(&actual).expect("the CRD is YAML");
        assert_eq!(parsed, generated(), "{out}");
    }
}

#[test]
fn names_scope_versions_and_columns() {
    let crd = generated();
    let spec = &crd["spec"];
    assert_eq!(crd["metadata"]["name"], "sealedsecrets.bitnami.com");
    assert_eq!(spec["group"], "bitnami.com");
    assert_eq!(spec["scope"], "Namespaced");
    let names = &spec["names"];
    assert_eq!(names["kind"], "SealedSecret");
    assert_eq!(names["plural"], "sealedsecrets");
    assert_eq!(names["singular"], "sealedsecret");
    // The API server defaults listKind to kind + "List", what the reference sets.
    assert!(matches!(&names["listKind"], Value::Null) || names["listKind"] == "SealedSecretList");
    assert_eq!(
        names.get("shortNames"),
        None,
        "the reference has no short names"
    );
    assert_eq!(
        names.get("categories"),
        None,
        "the reference has no categories"
    );

    let versions = spec["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 1);
    let v = &versions[0];
    assert_eq!(v["name"], "v1alpha1");
    assert_eq!(v["served"], true);
    assert_eq!(v["storage"], true);
    assert_eq!(v["subresources"], json!({"status": {}}));
    assert_eq!(
        v["additionalPrinterColumns"],
        json!([
            {"jsonPath": ".status.conditions[0].message", "name": "Status", "type": "string"},
            {"jsonPath": ".status.conditions[0].status", "name": "Synced", "type": "string"},
            {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"},
        ])
    );
}

#[test]
fn schema_shape() {
    let crd = generated();
    let root = schema_of(&crd);
    assert_eq!(root["type"], "object");
    assert_eq!(root["required"], json!(["spec"]));
    let spec = &root["properties"]["spec"];
    assert_eq!(spec["required"], json!(["encryptedData"]));

    let encrypted = &spec["properties"]["encryptedData"];
    assert_eq!(encrypted["type"], "object");
    assert_eq!(encrypted["additionalProperties"]["type"], "string");
    assert_eq!(encrypted["x-kubernetes-preserve-unknown-fields"], true);

    let data = &spec["properties"]["data"];
    assert_eq!(
        (&data["type"], &data["format"]),
        (&json!("string"), &json!("byte"))
    );

    let template = &spec["properties"]["template"]["properties"];
    let metadata = &template["metadata"];
    assert_eq!(metadata["type"], "object");
    assert_eq!(metadata["nullable"], true);
    assert_eq!(metadata["x-kubernetes-preserve-unknown-fields"], true);
    assert_eq!(template["data"]["nullable"], true);
    assert_eq!(template["data"]["additionalProperties"]["type"], "string");
    assert_eq!(template["type"]["type"], "string");
    assert_eq!(template["immutable"]["type"], "boolean");

    let status = &root["properties"]["status"]["properties"];
    assert_eq!(status["observedGeneration"]["type"], "integer");
    assert_eq!(status["observedGeneration"]["format"], "int64");
    let condition = &status["conditions"]["items"];
    assert_eq!(condition["required"], json!(["status", "type"]));
    for time in ["lastTransitionTime", "lastUpdateTime"] {
        assert_eq!(
            condition["properties"][time]["format"], "date-time",
            "{time}"
        );
    }
}

/// The API server only takes structural schemas: no references, no
/// combinators, and here no defaults (the reference has none, and a default
/// would be written into every stored object).
#[test]
fn schema_is_structural_and_has_no_defaults() {
    fn walk(path: &str, node: &Value) {
        match node {
            Value::Object(map) => {
                for key in [
                    "$ref",
                    "$schema",
                    "definitions",
                    "$defs",
                    "default",
                    "oneOf",
                    "anyOf",
                    "allOf",
                    "not",
                ] {
                    assert!(!map.contains_key(key), "{path} has {key:?}");
                }
                for (k, v) in map {
                    if k == "properties" {
                        for (name, property) in v.as_object().expect("properties is an object") {
                            walk(&format!("{path}.{name}"), property);
                        }
                    } else if k == "items" || k == "additionalProperties" {
                        walk(&format!("{path}[{k}]"), v);
                    }
                }
                let has_type = map.contains_key("type");
                let preserves =
                    map.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
                assert!(has_type || preserves, "{path} has no type");
            }
            other => panic!("{path} is not a schema object: {other}"),
        }
    }
    walk("", schema_of(&generated()));
}

/// Where the reference source is, if anywhere.
fn reference_source() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("SEALED_SECRETS_REF_SRC") {
        candidates.push(PathBuf::from(dir));
    }
    candidates.push(PathBuf::from("/tmp/ref-src"));
    let versions =
        std::fs::read_to_string(workspace_root().join("scripts/versions.env")).unwrap_or_default();
    let setting = |key: &str| {
        versions
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
            .map(str::to_owned)
    };
    if let (Some(module), Some(version)) = (
        setting("SEALED_SECRETS_REF_MODULE"),
        setting("SEALED_SECRETS_REF_VERSION"),
    ) {
        let cache = std::env::var_os("GOMODCACHE")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("GOPATH").map(|p| PathBuf::from(p).join("pkg/mod")))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join("go/pkg/mod")));
        if let Some(cache) = cache {
            candidates.push(cache.join(format!("{module}@{version}")));
        }
    }
    candidates.into_iter().find(|dir| {
        dir.join("helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml")
            .is_file()
    })
}

fn reference_crd() -> Option<Value> {
    let Some(dir) = reference_source() else {
        assert!(
            !required(),
            "REQUIRE_REFERENCE=1 (or REQUIRE_REF_SRC=1) but no reference source was found \
             (set SEALED_SECRETS_REF_SRC or run scripts/install-tools)"
        );
        eprintln!(
            "skipped: reference source not found (set SEALED_SECRETS_REF_SRC, \
             or run scripts/install-tools to fill the Go module cache)"
        );
        return None;
    };
    let path = dir.join("helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml");
    let text = std::fs::read_to_string(&path).expect("read the reference CRD");
    let crd: Value = serde_yaml::from_str(&text).expect("the reference CRD is YAML");
    // The jsonnet manifests embed this schema; it must be the same one.
    if let Ok(text) = std::fs::read_to_string(dir.join("schema-v1alpha1.yaml")) {
        let schema: Value = serde_yaml::from_str(&text).expect("schema-v1alpha1.yaml is YAML");
        assert_eq!(
            strip_descriptions(schema["openAPIV3Schema"].clone()),
            strip_descriptions(schema_of(&crd).clone()),
            "the reference's two schemas differ: compare with both"
        );
    }
    Some(crd)
}

/// Whether a missing reference fails the tests rather than skipping them:
/// `REQUIRE_REFERENCE=1`, as every other comparison with the reference
/// (`scripts/test-all` sets it), or the older `REQUIRE_REF_SRC=1`.
fn required() -> bool {
    ["REQUIRE_REFERENCE", "REQUIRE_REF_SRC"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0"))
}

fn strip_descriptions(mut node: Value) -> Value {
    if let Value::Object(map) = &mut node {
        map.remove("description");
        for v in map.values_mut() {
            *v = strip_descriptions(v.take());
        }
    }
    node
}

#[test]
fn identity_matches_the_reference() {
    let Some(reference) = reference_crd() else {
        return;
    };
    let ours = generated();
    assert_eq!(ours["metadata"]["name"], reference["metadata"]["name"]);
    for key in ["group", "scope"] {
        assert_eq!(ours["spec"][key], reference["spec"][key], "spec.{key}");
    }
    let (names, ref_names) = (&ours["spec"]["names"], &reference["spec"]["names"]);
    for key in ["kind", "plural", "singular", "shortNames", "categories"] {
        assert_eq!(names[key], ref_names[key], "spec.names.{key}");
    }
    // Absent listKind is defaulted by the API server to kind + "List".
    let list_kind = names["listKind"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or(format!(
            "{}List",
            names["kind"].as_str().expect("kind is a string")
        ));
    assert_eq!(json!(list_kind), ref_names["listKind"]);

    let (ours_v, ref_v) = (&ours["spec"]["versions"], &reference["spec"]["versions"]);
    assert_eq!(
        ours_v.as_array().map(Vec::len),
        ref_v.as_array().map(Vec::len)
    );
    for key in [
        "name",
        "served",
        "storage",
        "subresources",
        "additionalPrinterColumns",
    ] {
        assert_eq!(ours_v[0][key], ref_v[0][key], "versions[0].{key}");
    }
}

/// Everything the reference schema lets through, ours lets through: every
/// field it declares exists in ours with the same type and format, with no
/// extra requirement or restriction, nullable and unknown-field-preserving
/// wherever it is.
#[test]
fn schema_accepts_what_the_reference_accepts() {
    let Some(reference) = reference_crd() else {
        return;
    };
    let ours = generated();
    let mut problems = Vec::new();
    compatible("", schema_of(&reference), schema_of(&ours), &mut problems);
    assert!(
        problems.is_empty(),
        "schema incompatibilities:\n  {}",
        problems.join("\n  ")
    );
}

/// Keywords that only ever reject objects: ours may only carry them with the
/// reference's exact value.
const RESTRICTIONS: [&str; 16] = [
    "enum",
    "pattern",
    "maxLength",
    "minLength",
    "maximum",
    "minimum",
    "exclusiveMaximum",
    "exclusiveMinimum",
    "multipleOf",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "x-kubernetes-validations",
    "x-kubernetes-list-type",
];

fn compatible(path: &str, reference: &Value, ours: &Value, problems: &mut Vec<String>) {
    let at = if path.is_empty() { "<root>" } else { path };
    let ours_preserves = ours["x-kubernetes-preserve-unknown-fields"] == json!(true);
    for key in ["type", "format"] {
        if !reference[key].is_null() && reference[key] != ours[key] {
            problems.push(format!(
                "{at}: {key} is {} in ours, {} in the reference",
                ours[key], reference[key]
            ));
        }
    }
    for key in [
        "nullable",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
        "x-kubernetes-embedded-resource",
    ] {
        if reference[key] == json!(true) && ours[key] != json!(true) {
            problems.push(format!("{at}: the reference sets {key}, ours does not"));
        }
    }
    for key in RESTRICTIONS {
        if !ours[key].is_null() && ours[key] != reference[key] {
            problems.push(format!(
                "{at}: ours restricts {key} = {}, the reference {}",
                ours[key], reference[key]
            ));
        }
    }
    let required = |schema: &Value| -> Vec<String> {
        schema["required"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let ref_required = required(reference);
    for field in required(ours) {
        if !ref_required.contains(&field) {
            problems.push(format!(
                "{at}: ours requires {field:?}, the reference does not"
            ));
        }
    }
    if let Some(properties) = reference["properties"].as_object() {
        for (name, ref_property) in properties {
            let child = format!("{path}.{name}");
            match ours["properties"].get(name) {
                Some(property) => compatible(&child, ref_property, property, problems),
                // The API server always accepts these at the root of a custom resource.
                None if path.is_empty()
                    && ["apiVersion", "kind", "metadata"].contains(&name.as_str()) => {}
                None if ours_preserves => {}
                None => problems.push(format!("{child}: in the reference, missing from ours")),
            }
        }
    }
    for key in ["items", "additionalProperties"] {
        match (reference.get(key), ours.get(key)) {
            (None, _) => {}
            (Some(r), Some(o)) if r.is_object() && o.is_object() => {
                compatible(&format!("{path}[{key}]"), r, o, problems)
            }
            (Some(r), o) if o == Some(r) => {}
            (Some(r), o) => problems.push(format!(
                "{at}: {key} is {o:?} in ours, {r} in the reference"
            )),
        }
    }
}

/// What the walk above would let slip: an extra optional field is fine (say a
/// new status field later), an extra required one or a changed type is not.
#[test]
fn compatibility_check_catches_differences() {
    let reference = json!({
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {"type": "object", "properties": {"a": {"type": "string", "format": "byte"}}},
            "status": {"type": "object", "properties": {"n": {"type": "integer", "format": "int64"}}},
        }
    });
    let check = |ours: Value| {
        let mut problems = Vec::new();
        compatible("", &reference, &ours, &mut problems);
        problems
    };
    let mut extended = reference.clone();
    extended["properties"]["status"]["properties"]["later"] =
        json!({"type": "string", "nullable": true});
    assert_eq!(check(extended), Vec::<String>::new());

    let mut more_required = reference.clone();
    more_required["properties"]["spec"]["required"] = json!(["a"]);
    assert_eq!(check(more_required).len(), 1);

    let mut retyped = reference.clone();
    retyped["properties"]["spec"]["properties"]["a"]["format"] = json!("date-time");
    assert_eq!(check(retyped).len(), 1);

    let mut missing = reference.clone();
    missing["properties"]["status"]["properties"] = json!({});
    assert_eq!(check(missing).len(), 1);

    let mut restricted = reference.clone();
    restricted["properties"]["spec"]["properties"]["a"]["maxLength"] = json!(10);
    assert_eq!(check(restricted).len(), 1);
}
