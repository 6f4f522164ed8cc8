//! Hostile input: random templates built from Go template fragments, and
//! failing templates over random secret values. Each render is bounded by a
//! deadline; none may hang, panic, or put a value into an error text.
//! Seeded, so a failure reproduces; `HOSTILE_CASES` runs more.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use go_text_template::{Limits, Template};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const FRAGMENTS: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    " ",
    ".",
    ".a",
    ".b",
    ".missing",
    "$",
    "$x",
    ":=",
    "=",
    "|",
    "(",
    ")",
    "\"s\"",
    "\"}}\"",
    "`raw`",
    "'c'",
    "1",
    "-2",
    "0x1F",
    "1.5",
    "1e3",
    "nil",
    "true",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define \"d\"",
    "template \"d\"",
    "template \"d\" .",
    "block \"b\" .",
    "break",
    "continue",
    "/*",
    "*/",
    "and",
    "or",
    "not",
    "len",
    "index",
    "slice",
    "print",
    "printf",
    "\"%v %d %s\"",
    "println",
    "eq",
    "lt",
    "html",
    "js",
    "urlquery",
    "upper",
    "repeat",
    "3",
    "1000000",
    "replace",
    "\"\"",
    "list",
    "dict",
    "keys",
    "until",
    "5",
    "join",
    "\",\"",
    "toJson",
    "fromJson",
    "default",
    "b64enc",
    "trunc",
    "sha256sum",
    "regexMatch",
    "\"a+\"",
    "semver",
    "\"1.2.3\"",
    "add",
    "div",
    "0",
    "first",
    "append",
    "set",
    "get",
    "$.a",
    "\n",
    "text",
];

fn limits() -> Limits {
    Limits {
        deadline: Some(Instant::now() + Duration::from_millis(200)),
        ..Limits::default()
    }
}

fn cases(default: usize) -> usize {
    std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_templates_never_hang_or_panic() {
    let mut rng = StdRng::seed_from_u64(0x5ea1ed);
    let data = BTreeMap::from([
        ("a".to_string(), b"alpha".to_vec()),
        ("b".to_string(), b"{\"k\": [1, 2]}".to_vec()),
    ]);
    for _ in 0..cases(3000) {
        let n = rng.random_range(1..24);
        let text: String = (0..n)
            .map(|_| FRAGMENTS[rng.random_range(0..FRAGMENTS.len())])
            .collect::<Vec<_>>()
            .join(if rng.random_bool(0.5) { " " } else { "" });
        let started = Instant::now();
        if let Ok(t) = Template::new("t")
            .with_sprig()
            .value_free_errors(true)
            .parse(&text)
        {
            let _ = t.execute_strings(&data, &limits());
        }
        // The deadline is checked between steps; one step is short.
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{text:?} took {:?}",
            started.elapsed()
        );
    }
}

/// Templates that fail on (or with) a value; none may show it.
const FAILING: &[&str] = &[
    "{{ lt . 0 }}",
    "{{ lt .v 0 }}",
    "{{ len . 1 }}",
    "{{ range .v }}{{ end }}",
    "{{ index .v 999 }}",
    "{{ slice .v 9 2 }}",
    "{{ .v.field }}",
    "{{ .v 1 }}",
    "{{ eq .v 1 }}",
    "{{ eq (list .v) (list .v) }}",
    "{{ template \"none\" .v }}",
    "{{ fail .v }}",
    "{{ mustFromJson .v }}",
    "{{ semver .v }}",
    "{{ semverCompare .v \"1.0.0\" }}",
    "{{ semverCompare \">1\" .v }}",
    "{{ mustRegexMatch .v \"x\" }}",
    "{{ mustRegexFind .v \"x\" }}",
    "{{ toDate \"2006-01-02\" .v | date \"2006\" }}",
    "{{ mustToDate \"2006-01-02\" .v }}",
    "{{ mustDateModify .v now }}",
    "{{ urlParse .v }}",
    "{{ decryptAES \"k\" .v }}",
    "{{ buildCustomCert .v .v }}",
    "{{ genCAWithKey \"ca\" 1 .v }}",
    "{{ trunc .v 1 }}",
    "{{ repeat .v \"x\" }}",
    "{{ add1 .v | upper }}",
    "{{ div 1 (atoi .v) }}",
    "{{ mod 1 (int .v) }}",
    "{{ index (dict \"a\" .v) 1 }}",
    "{{ mustFirst .v }}",
    "{{ mustPush .v 1 }}",
    "{{ mustSlice .v 1 }}",
    "{{ mustMerge .v }}",
    "{{ mustToJson .v | fromJson | mustToJson }}",
    "{{ printf .v }}{{ lt .v 1 }}",
    "{{ typeIs .v }}",
    "{{ b64dec .v | mustFromJson }}",
    "{{ .v | regexSplit .v 1 | first | int | div 1 }}",
];

fn random_value(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let n = rng.random_range(12..32);
    (0..n)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[test]
fn errors_hold_no_value() {
    let mut rng = StdRng::seed_from_u64(0xdecaf);
    for _ in 0..cases(20) {
        let secret = random_value(&mut rng);
        // Shapes that reach deeper into parsers than plain text does.
        for value in [
            secret.clone(),
            format!("{{\"{secret}\": 1"),
            format!("1.2.{secret}"),
            format!("http://{secret}@%zz"),
            format!("({secret}"),
            format!("2024-13-{secret}"),
        ] {
            let data = BTreeMap::from([("v".to_string(), value.clone().into_bytes())]);
            for text in FAILING {
                let Err(err) = Template::new("t")
                    .with_sprig()
                    .value_free_errors(true)
                    .parse(text)
                    .and_then(|t| t.execute_strings(&data, &limits()))
                else {
                    continue;
                };
                let err = err.to_string();
                assert!(
                    !err.contains(&secret),
                    "{text} with {value:?} leaked it: {err}"
                );
            }
        }
    }
}
