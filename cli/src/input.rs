//! Reading Kubernetes objects from a YAML or JSON stream.

use std::path::Path;

use anyhow::{anyhow, bail, Context as _, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Every non-empty document: YAML documents separated by `---`, or JSON
/// objects one after another.
pub fn documents(text: &str) -> Result<Vec<Value>> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let mut docs = Vec::new();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        for (index, doc) in serde_json::Deserializer::from_str(trimmed)
            .into_iter::<Value>()
            .enumerate()
        {
            docs.push(
                doc.with_context(|| format!("input document {} is not valid JSON", index + 1))?,
            );
        }
    } else {
        for (index, doc) in serde_yaml::Deserializer::from_str(trimmed).enumerate() {
            let value = Value::deserialize_yaml(doc)
                .with_context(|| format!("input document {} is not valid YAML", index + 1))?;
            docs.push(value);
        }
    }
    docs.retain(|d| !d.is_null());
    Ok(docs)
}

trait DeserializeYaml: Sized {
    fn deserialize_yaml(doc: serde_yaml::Deserializer<'_>) -> Result<Self, serde_yaml::Error>;
}

impl DeserializeYaml for Value {
    fn deserialize_yaml(doc: serde_yaml::Deserializer<'_>) -> Result<Self, serde_yaml::Error> {
        serde::Deserialize::deserialize(doc)
    }
}

/// Decodes each document as `T`, checking `kind` when the document has one.
pub fn objects<T: DeserializeOwned>(text: &str, kind: &str) -> Result<Vec<T>> {
    documents(text)?
        .into_iter()
        .enumerate()
        .map(|(index, doc)| {
            let n = index + 1;
            match doc.get("kind").and_then(Value::as_str) {
                Some(k) if k != kind => {
                    bail!(
                        "input document {n} is a {}, expected a {kind}",
                        shown_kind(k)
                    )
                }
                _ => {}
            }
            from_value(doc).with_context(|| format!("input document {n} is not a valid {kind}"))
        })
        .collect()
}

/// A document's `kind` as an error shows it: a Kubernetes kind is a short
/// word; anything else (a damaged file, a key's base64) is not repeated.
pub fn shown_kind(kind: &str) -> &str {
    let word = !kind.is_empty()
        && kind.len() <= 40
        && kind.starts_with(|c: char| c.is_ascii_alphabetic())
        && kind.bytes().all(|b| b.is_ascii_alphanumeric());
    if word {
        kind
    } else {
        "document of another kind"
    }
}

/// `serde_json::from_value`, with the offending value left out of the error.
pub fn from_value<T: DeserializeOwned>(doc: Value) -> Result<T> {
    serde_json::from_value(doc).map_err(|e| anyhow!(without_values(&e.to_string())))
}

/// serde's message without the value it quotes: `invalid type: string
/// "hunter2", expected ...` is about a Secret's value, or a private key
/// (found by fuzz/ key_backup). Field names and expectations stay.
pub fn without_values(message: &str) -> String {
    const QUOTED: [(&str, &str, char); 5] = [
        ("string \"", "a string", '"'),
        ("integer `", "an integer", '`'),
        ("floating point `", "a number", '`'),
        ("boolean `", "a boolean", '`'),
        ("character `", "a character", '`'),
    ];
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    'scan: while !rest.is_empty() {
        for (start, word, close) in QUOTED {
            if let Some(after) = rest.strip_prefix(start) {
                out.push_str(word);
                // To the closing quote; a string is Debug-escaped (\" and \\).
                let mut chars = after.char_indices();
                while let Some((i, c)) = chars.next() {
                    if c == '\\' && close == '"' {
                        chars.next();
                    } else if c == close {
                        rest = &after[i + c.len_utf8()..];
                        continue 'scan;
                    }
                }
                return out;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// The text of `-f FILE`, or of stdin.
pub fn read(file: Option<&Path>, what: &str) -> Result<String> {
    use std::io::{IsTerminal as _, Read as _};
    match file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {what} file {}", path.display())),
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!("(tty detected: expecting json/yaml k8s resource in stdin)");
            }
            let mut text = String::new();
            stdin.lock().read_to_string(&mut text).with_context(|| {
                format!("cannot read {what} from stdin (it must be UTF-8 JSON or YAML)")
            })?;
            Ok(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_streams() {
        let yaml = "---\na: 1\n---\n\n---\nb: 2\n";
        assert_eq!(documents(yaml).unwrap().len(), 2);
        let json = "{\"a\":1}\n{\"b\":2}{\"c\":3}";
        assert_eq!(documents(json).unwrap().len(), 3);
        assert!(documents("{\"a\":").is_err());
        assert!(documents("a: [").is_err());
        assert!(documents("").unwrap().is_empty());
    }

    #[test]
    fn errors_leave_values_out() {
        let yaml = "kind: Secret\nmetadata: {name: a}\nstringData: \"hunter2 \\\" `x`\"\n";
        let err = objects::<k8s_openapi::api::core::v1::Secret>(yaml, "Secret").unwrap_err();
        let text = format!("{err:#}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains("invalid type: a string, expected a map"),
            "{text}"
        );
        assert_eq!(
            without_values(r#"invalid type: string "a\"b\\", expected x; integer `7` and `f`"#),
            "invalid type: a string, expected x; an integer and `f`"
        );
        assert_eq!(without_values("floating point `1.5"), "a number");
        assert_eq!(without_values("unknown field `dta`"), "unknown field `dta`");
        let line = "nG6xc90DjLhjvxEiDNlhj1t9hNQQU6Fc3MT6W4BK h9Gtw0UCgYEAznNw+OK0e0widFcymzE";
        let err = objects::<Value>(&format!("kind: {line}\n"), "Secret").unwrap_err();
        assert_eq!(
            err.to_string(),
            "input document 1 is a document of another kind, expected a Secret"
        );
        assert_eq!(shown_kind("ConfigMap"), "ConfigMap");
    }
}
