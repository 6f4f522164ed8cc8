//! The engine on whole templates: Go's control structures, variables,
//! comparisons and errors. Expected outputs come from Go 1.26 text/template.

mod common;

use std::collections::BTreeMap;

use go_text_template::{Limits, Template};

fn data() -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([
        ("user".to_string(), b"admin".to_vec()),
        ("password".to_string(), b"s3cr3t-VALUE".to_vec()),
        ("n".to_string(), b"42".to_vec()),
        ("empty".to_string(), Vec::new()),
    ])
}

fn render(text: &str) -> Result<String, String> {
    let t = Template::new("t")
        .with_sprig()
        .value_free_errors(true)
        .parse(text)
        .map_err(|e| e.to_string())?;
    t.execute_strings(&data(), &Limits::default())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| e.to_string())
}

#[test]
fn renders_go_control_structures() {
    let cases = [
        ("plain", "plain"),
        ("{{ .user }}", "admin"),
        ("{{ .missing }}", "<no value>"),
        ("{{ .missing.deeper }}", "<no value>"),
        ("{{ if .user }}y{{ else }}n{{ end }}", "y"),
        ("{{ if .empty }}y{{ else if .user }}u{{ else }}n{{ end }}", "u"),
        ("{{ with .user }}[{{ . }}]{{ end }}", "[admin]"),
        ("{{ with .empty }}x{{ else with .user }}{{ . }}{{ end }}", "admin"),
        ("{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}", "empty=;n=42;password=s3cr3t-VALUE;user=admin;"),
        ("{{ range 3 }}{{ . }}{{ end }}", "012"),
        ("{{ range $i, $e := . }}{{ if eq $i \"password\" }}{{ break }}{{ end }}{{ $i }},{{ end }}", "empty,n,"),
        ("{{ range . }}{{ if eq . \"42\" }}{{ continue }}{{ end }}.{{ end }}", "..."),
        ("{{ range 0 }}x{{ else }}none{{ end }}", "none"),
        ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", "2"),
        ("{{- \"a\" -}}  \n  {{- \"b\" }}", "ab"),
        ("a {{/* comment */}} b", "a  b"),
        ("a {{- /* comment */ -}} b", "ab"),
        ("{{ define \"x\" }}<{{ . }}>{{ end }}{{ template \"x\" .user }}", "<admin>"),
        ("{{ block \"b\" .n }}[{{ . }}]{{ end }}", "[42]"),
        ("{{ `raw\\n` }}", "raw\\n"),
        ("{{ 'a' }} {{ 1.5 }} {{ 0x10 }} {{ 1e3 }} {{ -7 }}", "97 1.5 16 1000 -7"),
        ("{{ and 1 0 2 }} {{ or 0 \"\" 3 }} {{ not 0 }}", "0 3 true"),
        ("{{ len .user }} {{ index .user 0 }}", "5 97"),
        // sprig's slice replaces the builtin, and takes lists only.
        ("{{ slice (list 1 2 3) 1 }}", "[2 3]"),
        ("{{ eq .n \"42\" }} {{ eq 1 2 1 }} {{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt 1.5 1.2 }} {{ ge \"b\" \"a\" }}", "true true true true true true true"),
        ("{{ print 1 2 \"a\" 3 }}", "1 2a3"),
        ("{{ println 1 \"a\" }}", "1 a\n"),
        ("{{ .user | printf \"%s!\" }}", "admin!"),
        ("{{ (.user) }}", "admin"),
        ("{{ $ }}", "map[empty: n:42 password:s3cr3t-VALUE user:admin]"),
    ];
    for (text, want) in cases {
        let got = render(text);
        if !common::left_out(&got) {
            assert_eq!(got.as_deref(), Ok(want), "{text}");
        }
    }
}

#[test]
fn refuses_what_go_refuses() {
    for text in [
        "{{ .user ",
        "{{ \"}}\" ",
        "{{ if .user }}",
        "{{ end }}",
        "{{ nosuchfunc }}",
        "{{ break }}",
        "{{ $undefined }}",
        "{{ range .user }}{{ end }}",
        "{{ lt . 0 }}",
        "{{ template \"nope\" }}",
        "{{ index .user 99 }}",
        "{{ nil }}",
        "{{ 1 2 }}",
        "{{ env \"HOME\" }}",
        "{{ define \"r\" }}{{ template \"r\" }}{{ end }}{{ template \"r\" }}",
    ] {
        assert!(
            render(text).is_err(),
            "{text:?} should fail, got {:?}",
            render(text)
        );
    }
}

#[test]
fn errors_never_hold_values() {
    for text in [
        "{{ lt . 0 }}",
        "{{ len . 1 }}",
        "{{ range .password }}{{ end }}",
        "{{ index .password 99 }}",
        "{{ .password.field }}",
        "{{ eq .password 1 }}",
        "{{ slice .password 5 2 }}",
        "{{ template \"x\" .password }}",
    ] {
        let err = render(text).expect_err(text);
        assert!(!err.contains("s3cr3t"), "{text}: {err}");
    }
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let deep = "{{ if true }}".repeat(20_000) + &"{{ end }}".repeat(20_000);
    assert!(render(&deep).is_err());
    let parens = "{{ ".to_string() + &"(".repeat(20_000) + "1" + &")".repeat(20_000) + " }}";
    assert!(render(&parens).is_err());
    let ok = "{{ if true }}".repeat(2_000) + "x" + &"{{ end }}".repeat(2_000);
    assert_eq!(render(&ok).as_deref(), Ok("x"));
}
