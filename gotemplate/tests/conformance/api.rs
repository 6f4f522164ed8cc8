//! The builder API's corpus (`api-corpus.yaml`, see its header): each
//! record built with the options it names (delimiters, `missingkey`, more
//! texts by `new_template`, sprig or builtins only), its data as
//! `serde_json::Value` through `execute` (or `map[string]string` through
//! `execute_strings`), a named template through `execute_template`. The Go
//! program does the same with `template.New`, `Delims`, `Option`, `New`,
//! `Parse`, `Execute` and `ExecuteTemplate`, its data mapped as this
//! crate maps serde data (go/main.go, "serde").

use std::collections::BTreeMap;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use go_text_template::{Limits, Template};
use serde::Deserialize;

use crate::corpus::{Case, How, More, Options, Record};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    /// The template's name (default `t`).
    #[serde(rename = "as")]
    template_name: Option<String>,
    template: String,
    /// Dot: any YAML value, as `serde_json::Value`.
    data: Option<serde_json::Value>,
    /// Dot from JSON text, for numbers YAML would not write exactly.
    json: Option<String>,
    /// Dot as `map[string]string`.
    strings: Option<BTreeMap<String, String>>,
    missingkey: Option<String>,
    #[serde(default)]
    option: Vec<String>,
    delims: Option<[String; 2]>,
    /// `⟦` and `⟧` in `template` stand for the record's delimiters (so one
    /// text can be tried with many).
    #[serde(default)]
    fill: bool,
    /// sprig's functions too (else Go's builtins only).
    #[serde(default)]
    sprig: bool,
    #[serde(default)]
    more: Vec<More>,
    execute: Option<String>,
    /// A deliberate difference from Go: why.
    differs: Option<String>,
}

/// A record with `each: {field: [values...], ...}` stands for one record a
/// combination of the values (the cross product, in order), named
/// `name/i.j...` by the values' positions.
fn expand(record: serde_yaml::Value) -> Result<Vec<serde_yaml::Value>, String> {
    let serde_yaml::Value::Mapping(mut base) = record else {
        return Err(format!("a record is not a mapping: {record:?}"));
    };
    let Some(each) = base.remove("each") else {
        return Ok(vec![serde_yaml::Value::Mapping(base)]);
    };
    let name = base
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or("?")
        .to_string();
    let serde_yaml::Value::Mapping(each) = each else {
        return Err(format!("{name}: each is not a mapping"));
    };
    let mut out = vec![(base, String::new())];
    for (field, values) in each {
        let serde_yaml::Value::Sequence(values) = values else {
            return Err(format!("{name}: each.{field:?} is not a list"));
        };
        let mut next = Vec::new();
        for (record, suffix) in &out {
            for (i, value) in values.iter().enumerate() {
                let mut record = record.clone();
                record.insert(field.clone(), value.clone());
                let sep = if suffix.is_empty() { "/" } else { "." };
                next.push((record, format!("{suffix}{sep}{i}")));
            }
        }
        out = next;
    }
    Ok(out
        .into_iter()
        .map(|(mut record, suffix)| {
            record.insert("name".into(), format!("{name}{suffix}").into());
            serde_yaml::Value::Mapping(record)
        })
        .collect())
}

pub fn load(path: &Path, undefined: &[String]) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let records: Vec<serde_yaml::Value> =
        serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut entries = Vec::new();
    for record in records {
        for one in expand(record)? {
            let name = format!("{:?}", one.get("name"));
            let entry: Entry = serde_yaml::from_value(one)
                .map_err(|e| format!("{}: record {name}: {e}", path.display()))?;
            entries.push(entry);
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut cases = Vec::new();
    for e in entries {
        if !seen.insert(e.name.clone()) {
            return Err(format!("{}: two records named {}", path.display(), e.name));
        }
        let serde = match (&e.data, &e.json, &e.strings) {
            (None, None, _) => e.strings.is_none().then_some(serde_json::Value::Null),
            (Some(v), None, None) => Some(v.clone()),
            (None, Some(j), None) => {
                Some(serde_json::from_str(j).map_err(|err| format!("{}: json: {err}", e.name))?)
            }
            _ => return Err(format!("{}: give one of data, json, strings", e.name)),
        };
        let strings = e
            .strings
            .map(|m| m.into_iter().map(|(k, v)| (k, B64.encode(v))).collect());
        let template = if e.fill {
            // An empty delimiter is the default one.
            let [left, right] = e.delims.clone().unwrap_or_default();
            let left = if left.is_empty() { "{{".into() } else { left };
            let right = if right.is_empty() { "}}".into() } else { right };
            e.template.replace('⟦', &left).replace('⟧', &right)
        } else {
            e.template.clone()
        };
        cases.push(Case {
            label: format!("api/{}", e.name),
            entry: format!("api/{}", e.name),
            record: Record {
                name: e.template_name.unwrap_or_else(|| "t".into()),
                template,
                strings,
                serde,
                options: Options {
                    undefined: undefined.to_vec(),
                    missingkey: e.missingkey,
                    option: e.option,
                    delims: e.delims,
                    no_sprig: !e.sprig,
                },
                more: e.more,
                execute: e.execute,
            },
            how: How::Api,
            shape: None,
            refuse: false,
            differs: e.differs,
        });
    }
    Ok(cases)
}

pub fn render(r: &Record) -> Result<Vec<u8>, String> {
    let t = build(r).map_err(|e| e.to_string())?;
    execute(&t, r)
}

fn build(r: &Record) -> Result<Template, go_text_template::Error> {
    let o = &r.options;
    let mut t = Template::new(&r.name);
    if !o.no_sprig {
        t = t.with_sprig();
    }
    if let Some([left, right]) = &o.delims {
        t = t.delims(left, right);
    }
    if let Some(missing) = &o.missingkey {
        t = t.option(&format!("missingkey={missing}"))?;
    }
    for option in &o.option {
        t = t.option(option)?;
    }
    let mut t = t.parse(&r.template)?;
    for more in &r.more {
        // Go's t.New(name) or t itself, both with t's delimiters: a handle
        // on the set as it is now (the latest value), as t would be in Go.
        let own = t.new_template(more.name.as_deref().unwrap_or(&r.name));
        let mut next = match &o.delims {
            Some([left, right]) => own.delims(left, right),
            None => own.delims("", ""),
        };
        if let Some([left, right]) = &more.delims {
            next = next.delims(left, right);
        }
        t = next.parse(&more.template)?;
    }
    Ok(t)
}

fn execute(t: &Template, r: &Record) -> Result<Vec<u8>, String> {
    let name = r.execute.as_deref().unwrap_or(&r.name);
    if let Some(strings) = &r.strings {
        let data = strings
            .iter()
            .map(|(k, v)| Ok((k.clone(), B64.decode(v).map_err(|e| e.to_string())?)))
            .collect::<Result<BTreeMap<_, _>, String>>()?;
        let Some(t) = t.lookup(name) else {
            return Err(format!(
                "template: no template {name:?} associated with template {:?}",
                r.name
            ));
        };
        return t
            .execute_strings(&data, &Limits::default())
            .map_err(|e| e.to_string());
    }
    let data = r.serde.clone().unwrap_or_default();
    let mut out = Vec::new();
    let done = match &r.execute {
        None if t.name() == r.name => t.execute(&mut out, &data),
        // The record's template, as t is in Go, on the set as it is now.
        _ => t
            .new_template(r.name.as_str())
            .execute_template(&mut out, name, &data),
    };
    done.map(|()| out).map_err(|e| e.to_string())
}
