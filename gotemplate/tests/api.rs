//! The public API as another program uses it: the template set (delims,
//! options, functions, several texts, lookup, execute_template, clone),
//! data from serde, output to any writer, errors and their kinds.
//! Expected texts are Go 1.26 text/template's.

use std::collections::BTreeMap;
use std::io::Write;

use go_text_template::{
    Error, Func, FuncError, FuncMap, Limits, MissingKey, Template, Type, Value,
};
use serde::Serialize;
use serde_json::json;

fn run(t: &Template, data: &(impl Serialize + ?Sized)) -> Result<String, String> {
    let mut out = Vec::new();
    t.execute(&mut out, data).map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn parsed(text: &str) -> Template {
    Template::new("t").parse(text).expect("the template parses")
}

fn func(f: impl Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + 'static) -> Func {
    Func::from_fn_variadic(&[], Type::Any, move |_, args| f(args))
}

#[test]
fn a_template_is_send_sync_and_cheap_to_share() {
    fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<Template>();
    shared::<FuncMap>();
    shared::<Error>();
}

#[test]
fn delimiters_are_chosen_before_parse() {
    let t = Template::new("t")
        .delims("<<", ">>")
        .parse("<<.a>> {{.a}} <<- \" x\" ->><</* c */>>")
        .unwrap();
    assert_eq!(run(&t, &json!({"a": "A"})).as_deref(), Ok("A {{.a}} x"));
    // An empty delimiter is the default one.
    let t = Template::new("t")
        .delims("", ">>")
        .parse("{{ 1 >>")
        .unwrap();
    assert_eq!(run(&t, &()).as_deref(), Ok("1"));
    let err = Template::new("t")
        .delims("[", "]")
        .parse("[ .a ")
        .unwrap_err();
    assert_eq!(err.to_string(), "template: t:1: unclosed action");
}

#[test]
fn missing_keys_follow_the_option() {
    let text = "{{.nope}}";
    let data = json!({"a": 1});
    let default = parsed(text);
    assert_eq!(run(&default, &data).as_deref(), Ok("<no value>"));
    let zero = Template::new("t")
        .option("missingkey=zero")
        .unwrap()
        .parse(text)
        .unwrap();
    assert_eq!(run(&zero, &data).as_deref(), Ok("<no value>"));
    let strings = BTreeMap::from([("a".to_string(), b"1".to_vec())]);
    assert_eq!(
        zero.execute_strings(&strings, &Limits::default()).unwrap(),
        b""
    );
    let error = Template::new("t")
        .missing_key(MissingKey::Error)
        .parse(text)
        .unwrap();
    assert_eq!(
        run(&error, &data),
        Err(r#"template: t:1:2: executing "t" at <.nope>: map has no entry for key "nope""#.into())
    );
    // Nil data is no value: a field of it is no value too, or with
    // missingkey=error Go's "nil data" error.
    assert_eq!(run(&parsed("{{.x}}"), &()).as_deref(), Ok("<no value>"));
    assert_eq!(
        run(&error.clone().parse("{{.x}}").unwrap(), &()),
        Err(r#"template: t:1:2: executing "t" at <.x>: nil data; no entry for key "x""#.into())
    );
    assert!(Template::new("t").option("missingkey=invalid").is_ok());
    let bad = Template::new("t").option("missingkey=bogus").unwrap_err();
    assert!(matches!(bad, Error::Option(_)));
    assert_eq!(bad.to_string(), "unrecognized option: missingkey=bogus");
}

#[test]
fn functions_are_closures_added_before_parse() {
    let prefix = String::from("pre-");
    let funcs = FuncMap::from_iter([
        (
            "tag",
            Func::from_fn(&[Type::String], move |env, args| {
                let s = args[0].as_bytes().unwrap_or_default();
                env.charge(prefix.len() + s.len())?;
                Ok(Value::bytes(&[prefix.as_bytes(), s].concat()))
            }),
        ),
        // Replaces text/template's own len, as Go's Funcs may.
        ("len", func(|_| Ok(Value::Int(-1)))),
        ("fail", func(|_| Err(FuncError::reason("boom")))),
    ]);
    let t = Template::new("t")
        .funcs(funcs)
        .parse(r#"{{ tag "a" }} {{ "b" | tag }} {{ len "abc" }}"#)
        .unwrap();
    assert_eq!(run(&t, &()).as_deref(), Ok("pre-a pre-b -1"));

    let err = parsed_with_fail(r#"x{{ fail "arg" }}"#);
    let Error::Func(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.function(), Some("fail"));
    assert_eq!(
        err.to_string(),
        r#"template: t:1:4: executing "t" at <fail "arg">: error calling fail: boom"#
    );
    assert_eq!((err.line(), err.column()), (Some(1), Some(4)));

    let unknown = Template::new("t").parse("{{ tag 1 }}").unwrap_err();
    assert_eq!(
        unknown.to_string(),
        r#"template: t:1: function "tag" not defined"#
    );

    // Functions given after parse serve the execution (Go's Funcs on a
    // parsed template).
    let one = FuncMap::from_iter([("n", func(|_| Ok(Value::Int(1))))]);
    let two = FuncMap::from_iter([("n", func(|_| Ok(Value::Int(2))))]);
    let t = Template::new("t")
        .funcs(one)
        .parse("{{ n }}")
        .unwrap()
        .funcs(two);
    assert_eq!(run(&t, &()).as_deref(), Ok("2"));
}

fn parsed_with_fail(text: &str) -> Error {
    let funcs = FuncMap::from_iter([("fail", func(|_| Err(FuncError::reason("boom"))))]);
    let t = Template::new("t").funcs(funcs).parse(text).unwrap();
    t.execute(&mut Vec::new(), &()).unwrap_err()
}

#[test]
fn a_set_grows_over_several_texts() {
    let t = Template::new("main")
        .parse("{{define \"x\"}}\n\n  {{.a.b}}{{end}}main")
        .unwrap()
        .parse("{{define \"y\"}}{{.a.c}}{{end}}")
        .unwrap();
    // An empty body does not replace main.
    assert_eq!(run(&t, &()).as_deref(), Ok("main"));
    assert_eq!(t.template_names(), ["main", "x", "y"]);
    assert_eq!(
        t.defined_templates(),
        r#"; defined templates are: "main", "x", "y""#
    );
    // Each tree's errors point into its own text (at the last field of a
    // chain, as Go's parser places it); `.a` came out of a
    // map[string]interface {}, so Go names its type interface {}.
    let data = json!({"a": 1});
    let mut out = Vec::new();
    let x = t.execute_template(&mut out, "x", &data).unwrap_err();
    assert_eq!(
        x.to_string(),
        r#"template: main:3:6: executing "x" at <.a.b>: can't evaluate field b in type interface {}"#
    );
    let y = t.execute_template(&mut out, "y", &data).unwrap_err();
    assert_eq!(
        y.to_string(),
        r#"template: main:1:18: executing "y" at <.a.c>: can't evaluate field c in type interface {}"#
    );
    assert_eq!(y.template_name(), Some("y"));
    let lookup = t.lookup("x").expect("x is defined");
    assert_eq!(lookup.name(), "x");
    assert!(t.lookup("z").is_none());
    assert_eq!(
        t.execute_template(&mut out, "z", &())
            .unwrap_err()
            .to_string(),
        r#"template: no template "z" associated with template "main""#
    );
    assert_eq!(
        run(&Template::new("empty"), &()),
        Err(r#"template: empty: "empty" is an incomplete or empty template"#.into())
    );
}

#[test]
fn a_later_definition_replaces_and_clones_are_independent() {
    let a = parsed(r#"{{define "a"}}A{{end}}{{template "a"}}"#);
    let b = a.clone().parse(r#"{{define "a"}}B{{end}}"#).unwrap();
    let still_a = a.clone().parse(r#"{{define "a"}}{{end}}"#).unwrap();
    assert_eq!(run(&a, &()).as_deref(), Ok("A"));
    assert_eq!(run(&still_a, &()).as_deref(), Ok("A"));
    // b's text has an empty body: t's own stays and calls the new a.
    assert_eq!(run(&b, &()).as_deref(), Ok("B"));
    let twice = Template::new("t").parse(r#"{{define "a"}}1{{end}}{{define "a"}}2{{end}}"#);
    assert_eq!(
        twice.unwrap_err().to_string(),
        r#"template: t:1: template: multiple definition of template "a""#
    );
}

#[derive(Serialize)]
enum Shape {
    Dot,
    Circle(f64),
    Rect { w: u32, h: u32 },
}

struct Raw(&'static [u8]);

impl Serialize for Raw {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

#[derive(Serialize)]
struct Data {
    i: i32,
    u: u16,
    big: u64,
    f: f64,
    b: bool,
    s: &'static str,
    c: char,
    none: Option<u8>,
    some: Option<u8>,
    list: Vec<&'static str>,
    raw: Raw,
    shapes: Vec<Shape>,
    #[serde(rename = "Renamed")]
    renamed: u8,
}

fn data() -> Data {
    Data {
        i: -3,
        u: 7,
        big: u64::MAX,
        f: 1.5,
        b: true,
        s: "str",
        c: 'é',
        none: None,
        some: Some(4),
        list: vec!["x", "y"],
        raw: Raw(b"\xff\x00"),
        shapes: vec![Shape::Dot, Shape::Circle(2.0), Shape::Rect { w: 1, h: 2 }],
        renamed: 9,
    }
}

#[test]
fn serde_data_has_go_types() {
    let cases = [
        (
            r#"{{ printf "%T %T %T %T %T %T %T %T" .i .u .big .f .b .s .c .list }}"#,
            "int int uint64 float64 bool string string []interface {}",
        ),
        (
            "{{ .i }} {{ .u }} {{ .big }} {{ .f }} {{ .b }} {{ .s }} {{ .c }}",
            "-3 7 18446744073709551615 1.5 true str é",
        ),
        (
            "{{ .none }}|{{ printf \"%v\" .none }}|{{ .some }}",
            "<no value>|<nil>|4",
        ),
        (
            "{{ .list }} {{ index .list 1 }} {{ len .list }}",
            "[x y] y 2",
        ),
        ("{{ printf \"%q\" .raw }}", r#""\xff\x00""#),
        (
            "{{ .shapes }}",
            "[Dot map[Circle:2] map[Rect:map[h:2 w:1]]]",
        ),
        ("{{ .Renamed }}", "9"),
        ("{{ printf \"%T\" . }}", "map[string]interface {}"),
    ];
    for (text, want) in cases {
        assert_eq!(run(&parsed(text), &data()).as_deref(), Ok(want), "{text}");
    }
    // Map keys: numbers become their text; Go sorts keys as strings.
    let keys = BTreeMap::from([(2, "b"), (10, "a")]);
    let t = parsed("{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}");
    assert_eq!(run(&t, &keys).as_deref(), Ok("10=a;2=b;"));
    let floats = BTreeMap::from([("k", BTreeMap::from([(1u8, 1.0)]))]);
    assert!(run(&t, &floats).is_ok());
    let bad = t
        .execute(
            &mut Vec::new(),
            &vec![(vec![1], 1)].into_iter().collect::<BTreeMap<_, _>>(),
        )
        .unwrap_err();
    assert!(matches!(bad, Error::Data(_)), "{bad:?}");
    // JSON data with sprig: numbers are ints, as sprig's arithmetic wants.
    if cfg!(feature = "sprig") {
        let t = Template::new("t")
            .with_sprig()
            .parse("{{ add .replicas 1 }} {{ until .replicas }}")
            .unwrap();
        assert_eq!(run(&t, &json!({"replicas": 3})).as_deref(), Ok("4 [0 1 2]"));
    }
}

struct Broken {
    written: Vec<u8>,
}

impl Write for Broken {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written.len() >= 2 {
            return Err(std::io::Error::other("disk full"));
        }
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn output_goes_to_any_writer_as_it_is_made() {
    // What was written before an error stays written, as with Go.
    let mut out = Vec::new();
    let err = parsed("ab{{ .x.y }}").execute(&mut out, &json!({"x": 1}));
    assert!(matches!(err, Err(Error::Exec(_))));
    assert_eq!(out, b"ab");
    let mut broken = Broken {
        written: Vec::new(),
    };
    let err = parsed("ab{{ 1 }}cd").execute(&mut broken, &()).unwrap_err();
    assert!(matches!(err, Error::Write(_)), "{err:?}");
    assert_eq!(err.to_string(), "disk full");
    // A trait object works as the writer too.
    let mut buffer = Vec::new();
    let dynamic: &mut dyn Write = &mut buffer;
    parsed("{{ 1 }}").execute(dynamic, &()).unwrap();
    assert_eq!(buffer, b"1");
}

#[test]
fn value_free_errors_leave_out_values_that_go_quotes() {
    let data = json!({"list": [1, 2], "s": "abc"});
    let cases = [
        (
            "{{ index .list 5 }}",
            "index out of range: 5",
            "index out of range",
        ),
        (
            "{{ slice .s 2 1 }}",
            "invalid slice index: 2 > 1",
            "invalid slice index",
        ),
    ];
    for (text, go, quiet) in cases {
        let go_err = run(&parsed(text), &data).unwrap_err();
        assert!(
            go_err.ends_with(&format!("error calling {}: {go}", &text[3..8])),
            "{go_err}"
        );
        let t = Template::new("t")
            .value_free_errors(true)
            .parse(text)
            .unwrap();
        let quiet_err = run(&t, &data).unwrap_err();
        assert!(quiet_err.ends_with(&format!(": {quiet}")), "{quiet_err}");
    }
    let seen = FuncMap::from_iter([(
        "seen",
        Func::from_fn(&[], |env, _| Ok(Value::Bool(env.values_in_errors()))),
    )]);
    let t = Template::new("t")
        .funcs(seen.clone())
        .parse("{{ seen }}")
        .unwrap();
    assert_eq!(run(&t, &()).as_deref(), Ok("true"));
    let quiet = Template::new("t")
        .funcs(seen)
        .value_free_errors(true)
        .parse("{{ seen }}")
        .unwrap();
    assert_eq!(run(&quiet, &()).as_deref(), Ok("false"));
}

/// The conformance runner's API corpus found `slice` panicking on a map
/// (its error named the type from an empty heap): now Go's error.
#[test]
fn slice_of_a_map_or_by_a_map_is_an_error() {
    let t = parsed("{{ slice . 1 }}");
    assert_eq!(
        run(&t, &serde_json::json!({})).unwrap_err(),
        r#"template: t:1:3: executing "t" at <slice . 1>: error calling slice: can't slice item of type map[string]interface {}"#
    );
    let t = parsed("{{ slice .l .m }}");
    let err = run(&t, &serde_json::json!({ "l": [1], "m": {} })).unwrap_err();
    assert_eq!(
        err,
        r#"template: t:1:3: executing "t" at <slice .l .m>: error calling slice: cannot index slice/array with type map[string]interface {}"#
    );
}
