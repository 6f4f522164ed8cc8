//! The corpus as records: `cli/tests/fixtures/templates/corpus.yaml` (the
//! differential corpus of `spec.template.data`, see its header) turned into
//! what the reference controller renders: each template of an entry, named
//! by its key, over the entry's values (defaults merged in unless
//! `no_defaults`, binary ones decoded) plus its plaintext siblings.

use std::collections::BTreeMap;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    #[serde(default)]
    defaults: Values,
    entries: Vec<Entry>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct Values {
    #[serde(default)]
    values: BTreeMap<String, String>,
    #[serde(default)]
    binary: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // secret_name and namespace only change the sealing label
struct Entry {
    name: String,
    secret_name: Option<String>,
    namespace: Option<String>,
    #[serde(default)]
    values: BTreeMap<String, String>,
    #[serde(default)]
    binary: BTreeMap<String, String>,
    #[serde(default)]
    no_defaults: bool,
    t: Option<String>,
    #[serde(default)]
    template: BTreeMap<String, Option<String>>,
    shape: Option<Shape>,
    #[serde(default)]
    refuse: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Shape {
    All(String),
    Keys(BTreeMap<String, String>),
}

/// What the Go program reads (tests/conformance/go/main.go).
#[derive(Serialize, Clone, Default)]
pub struct Record {
    pub name: String,
    pub template: String,
    /// Dot as `map[string]string`, each value's bytes in base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strings: Option<BTreeMap<String, String>>,
    /// Dot as this crate maps serde data (`execute`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serde: Option<serde_json::Value>,
    pub options: Options,
    /// Texts parsed after `template`, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub more: Vec<More>,
    /// `ExecuteTemplate` of this name instead of `Execute`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execute: Option<String>,
}

/// A text parsed after the record's own: by a new template of the set
/// named `name` (Go's `t.New(name)`), or without a name by the record's
/// template again.
#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct More {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delims: Option<[String; 2]>,
    pub template: String,
}

#[derive(Serialize, Clone, Default)]
pub struct Options {
    /// Functions this build leaves out (its Cargo features): Go leaves
    /// them out too.
    pub undefined: Vec<String>,
    /// Go's `Option("missingkey=" + this)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missingkey: Option<String>,
    /// More `Option` texts, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub option: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delims: Option<[String; 2]>,
    /// Go's builtins only: no sprig map.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_sprig: bool,
}

/// How this crate renders a case.
pub enum How {
    /// As the controller: sprig, `value_free_errors`, `execute_strings`.
    Controller(BTreeMap<String, Vec<u8>>),
    /// Through the builder API as the record says (`api.rs`).
    Api,
}

/// One record and what the corpus says of it.
pub struct Case {
    /// `entry/key`
    pub label: String,
    pub entry: String,
    pub record: Record,
    pub how: How,
    /// Random or time-dependent output: both must match this, not each other.
    pub shape: Option<Regex>,
    /// The reference refuses the entry (some template of it fails).
    pub refuse: bool,
    /// A deliberate difference from Go (README, "Differences from Go"):
    /// the two must differ, so the mark cannot outlive the difference.
    pub differs: Option<String>,
}

pub fn load(path: &Path, undefined: &[String]) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let corpus: Corpus =
        serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut cases = Vec::new();
    for entry in &corpus.entries {
        let data = dot(entry, &corpus.defaults)?;
        let strings: BTreeMap<String, String> = data
            .iter()
            .map(|(k, v)| (k.clone(), B64.encode(v)))
            .collect();
        for (key, text) in templates(entry) {
            let Some(text) = text else { continue };
            let shape = match &entry.shape {
                None => None,
                Some(Shape::All(p)) => Some(p.clone()),
                Some(Shape::Keys(m)) => m.get(&key).cloned(),
            };
            let shape = shape
                .map(|p| Regex::new(&p).map_err(|e| format!("{}: shape {p:?}: {e}", entry.name)))
                .transpose()?;
            cases.push(Case {
                label: format!("{}/{key}", entry.name),
                entry: entry.name.clone(),
                record: Record {
                    name: key,
                    template: text,
                    strings: Some(strings.clone()),
                    options: Options {
                        undefined: undefined.to_vec(),
                        ..Options::default()
                    },
                    ..Record::default()
                },
                how: How::Controller(data.clone()),
                shape,
                refuse: entry.refuse,
                differs: None,
            });
        }
    }
    Ok(cases)
}

fn templates(entry: &Entry) -> BTreeMap<String, Option<String>> {
    let mut all = entry.template.clone();
    if let Some(t) = &entry.t {
        all.insert("out".into(), Some(t.clone()));
    }
    all
}

/// The reference's dot: the decrypted values, then each plaintext sibling
/// of `spec.template.data` whose key no value has.
fn dot(entry: &Entry, defaults: &Values) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let own = Values {
        values: entry.values.clone(),
        binary: entry.binary.clone(),
    };
    let sets = if entry.no_defaults {
        vec![&own]
    } else {
        vec![defaults, &own]
    };
    let mut data = BTreeMap::new();
    for set in sets {
        for (k, v) in &set.values {
            data.insert(k.clone(), v.clone().into_bytes());
        }
        for (k, v) in &set.binary {
            let bytes = B64
                .decode(v)
                .map_err(|e| format!("{}: binary {k}: {e}", entry.name))?;
            data.insert(k.clone(), bytes);
        }
    }
    for (k, v) in templates(entry) {
        if let Some(v) = v {
            data.entry(k).or_insert_with(|| v.into_bytes());
        }
    }
    Ok(data)
}
