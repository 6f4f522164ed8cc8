//! The template set: Go's `*template.Template` with a builder for its
//! options.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use crate::error::Error;
use crate::funcs::FuncMap;
use crate::limits::Limits;
use crate::set::{Delims, MissingKey, Set, Tree};
use crate::value::{Elem, Heap, Value};

/// A named template and the set it belongs to: Go's `template.New(name)`,
/// with `Delims`, `Option`, `Funcs` and `Parse` as builder methods, then
/// `Execute`, `ExecuteTemplate`, `Lookup`, `DefinedTemplates` and `Clone`.
///
/// Functions: text/template's own (`and`, `index`, `printf`, ...) are always
/// there; add sprig's with [`Template::with_sprig`] and your own with
/// [`Template::funcs`], before [`Template::parse`] (the parser refuses a
/// name it does not know, as Go's).
///
/// Every execution is bounded by the template's [`Limits`] (time, memory of
/// the values functions make, output, nesting), so a hostile template ends
/// with [`Error::Limit`] instead of running away.
///
/// A template is `Send + Sync` and cheap to clone (the parsed set is shared
/// until a clone changes); the builder methods change this value only, so
/// unlike Go a template returned by [`Template::lookup`] or
/// [`Template::new_template`] does not see later changes of the one it came
/// from (and that one does not see templates it parses): carry on with the
/// latest value, as `t = t.new_template("b").parse(text)?`.
///
/// ```
/// # if !cfg!(feature = "sprig") { return Ok(()); }
/// use go_text_template::Template;
/// use serde::Serialize;
///
/// #[derive(Serialize)]
/// struct Page { title: String, tags: Vec<&'static str> }
///
/// let t = Template::new("page")
///     .with_sprig()
///     .parse(r#"{{ define "tag" }}#{{ . }}{{ end }}{{ .title | upper }}:{{ range .tags }} {{ template "tag" . }}{{ end }}"#)?;
/// let mut out = Vec::new();
/// t.execute(&mut out, &Page { title: "news".into(), tags: vec!["a", "b"] })?;
/// assert_eq!(out, b"NEWS: #a #b");
/// # Ok::<(), go_text_template::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Template {
    name: String,
    set: Arc<Set>,
    limits: Limits,
    /// Go's are the template's own, not the set's.
    delims: Delims,
}

impl Template {
    /// A template named `name` with no text yet (Go's `template.New`).
    ///
    /// ```
    /// let t = go_text_template::Template::new("greeting");
    /// assert_eq!(t.name(), "greeting");
    /// ```
    pub fn new(name: impl Into<String>) -> Template {
        Template {
            name: name.into(),
            set: Arc::new(Set::default()),
            limits: Limits::default(),
            delims: Delims::default(),
        }
    }

    /// A new template named `name` in this one's set, with its delimiters,
    /// options, functions and limits (Go's `t.New(name)`): parse its own
    /// text, then execute any template of the set from it. The set is this
    /// one's as it is now; templates the new one parses are in its set, not
    /// in this one's (see [`Template`]).
    ///
    /// ```
    /// use go_text_template::Template;
    /// let t = Template::new("page")
    ///     .delims("[[", "]]")
    ///     .parse(r#"<[[ template "body" . ]]>"#)?
    ///     .new_template("body")
    ///     .parse("[[ .title ]]")?;
    /// assert_eq!(t.name(), "body");
    /// let data = serde_json::json!({ "title": "hi" });
    /// let mut out = Vec::new();
    /// t.execute_template(&mut out, "page", &data)?;
    /// assert_eq!(out, b"<hi>");
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn new_template(&self, name: impl Into<String>) -> Template {
        Template {
            name: name.into(),
            ..self.clone()
        }
    }

    /// The template's name.
    ///
    /// ```
    /// assert_eq!(go_text_template::Template::new("a").name(), "a");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the action delimiters for the texts this template parses after
    /// (Go's `Delims`); an empty one stands for the default `{{` or `}}`.
    /// They are the template's own, as Go's: [`Template::new_template`]
    /// starts with them, [`Template::lookup`] gives the ones the template
    /// found was parsed with.
    ///
    /// ```
    /// use go_text_template::Template;
    /// let t = Template::new("t").delims("[[", "]]").parse("{{ x }} [[ 1 ]]")?;
    /// let mut out = Vec::new();
    /// t.execute(&mut out, &())?;
    /// assert_eq!(out, b"{{ x }} 1");
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn delims(mut self, left: &str, right: &str) -> Template {
        self.delims = Delims {
            left: match left {
                "" => crate::parse::LEFT.to_string(),
                l => l.to_string(),
            },
            right: match right {
                "" => crate::parse::RIGHT.to_string(),
                r => r.to_string(),
            },
        };
        self
    }

    /// What a missing map key gives (Go's `Option("missingkey=...")`).
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use go_text_template::{Limits, MissingKey, Template};
    /// let t = Template::new("t").missing_key(MissingKey::Zero).parse("[{{ .nope }}]")?;
    /// // map[string]string: the zero value is "".
    /// let out = t.execute_strings(&BTreeMap::new(), &Limits::default())?;
    /// assert_eq!(out, b"[]");
    /// // map[string]interface {}: a nil interface, which prints as no value (as in Go).
    /// let mut out = Vec::new();
    /// t.execute(&mut out, &BTreeMap::from([("a", "b")]))?;
    /// assert_eq!(out, b"[<no value>]");
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn missing_key(mut self, missing: MissingKey) -> Template {
        Arc::make_mut(&mut self.set).missing_key = missing;
        self
    }

    /// Go's `Option`: `missingkey=default`, `missingkey=invalid`,
    /// `missingkey=zero` or `missingkey=error`. Another text is
    /// [`Error::Option`] (Go panics).
    ///
    /// ```
    /// use go_text_template::Template;
    /// let t = Template::new("t").option("missingkey=error")?.parse("{{ .nope }}")?;
    /// assert!(t.execute(&mut Vec::new(), &serde_json::json!({})).is_err());
    /// assert!(Template::new("t").option("missingkey=maybe").is_err());
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn option(self, option: &str) -> Result<Template, Error> {
        let missing = match option.split_once('=') {
            Some(("missingkey", "default" | "invalid")) => MissingKey::Default,
            Some(("missingkey", "zero")) => MissingKey::Zero,
            Some(("missingkey", "error")) => MissingKey::Error,
            _ => return Err(Error::Option(option.to_string())),
        };
        Ok(self.missing_key(missing))
    }

    /// Adds functions (Go's `Funcs`); a name given again replaces the
    /// earlier function, text/template's own included. Add them before
    /// [`Template::parse`]: the parser refuses names it does not know.
    ///
    /// ```
    /// use go_text_template::{Func, FuncMap, Template, Type, Value};
    /// let greeting = String::from("hello");
    /// let funcs = FuncMap::from_iter([(
    ///     "greet",
    ///     Func::from_fn(&[Type::String], move |_, args| {
    ///         let name = String::from_utf8_lossy(args[0].as_bytes().unwrap_or_default());
    ///         Ok(Value::string(format!("{greeting}, {name}")))
    ///     }),
    /// )]);
    /// let t = Template::new("t").funcs(funcs).parse(r#"{{ greet "Ada" }}"#)?;
    /// let mut out = Vec::new();
    /// t.execute(&mut out, &())?;
    /// assert_eq!(out, b"hello, Ada");
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn funcs(mut self, funcs: FuncMap) -> Template {
        Arc::make_mut(&mut self.set).funcs.push(funcs);
        self
    }

    /// Adds sprig v3.3.0's `GenericFuncMap` (minus `env`, `expandenv` and
    /// `getHostByName`): `.funcs(go_text_template::sprig())`.
    ///
    /// ```
    /// # if !cfg!(feature = "sprig") { return Ok(()); }
    /// use go_text_template::Template;
    /// let t = Template::new("t").with_sprig().parse(r#"{{ "a,b" | splitList "," | join "+" }}"#)?;
    /// let mut out = Vec::new();
    /// t.execute(&mut out, &())?;
    /// assert_eq!(out, b"a+b");
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn with_sprig(self) -> Template {
        self.funcs(crate::sprig())
    }

    /// The bounds of every execution (default: [`Limits::default`]).
    ///
    /// ```
    /// use go_text_template::{Error, Limit, Limits, Template};
    /// let t = Template::new("t")
    ///     .limits(Limits { max_output: 3, ..Limits::default() })
    ///     .parse("four")?;
    /// let err = t.execute(&mut Vec::new(), &()).unwrap_err();
    /// assert!(matches!(err, Error::Limit(Limit::Output)));
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn limits(mut self, limits: Limits) -> Template {
        self.limits = limits;
        self
    }

    /// With `true`, no error text holds a value from the data or one a
    /// function made (the texts go to logs or statuses that must not see
    /// secrets): where Go's text quotes a value (`index out of range: 5`,
    /// `invalid slice index: 3 > 1`) the value is left out, and functions
    /// see [`Env::values_in_errors`](crate::Env::values_in_errors) false.
    /// Texts still hold the template's own text (names, fields, literals).
    /// Off by default: texts are Go's, except sprig's functions, whose
    /// texts leave values out either way (`urlParse`'s `parse: invalid port
    /// after host` where Go says `parse "http://h:x/": invalid port ":x"
    /// after host`).
    ///
    /// ```
    /// use go_text_template::Template;
    /// let text = "{{ index .list 5 }}";
    /// let data = serde_json::json!({ "list": [1, 2] });
    /// let go = Template::new("t").parse(text)?.execute(&mut Vec::new(), &data).unwrap_err();
    /// assert!(go.to_string().ends_with("error calling index: index out of range: 5"));
    /// let quiet = Template::new("t").value_free_errors(true).parse(text)?;
    /// let err = quiet.execute(&mut Vec::new(), &data).unwrap_err();
    /// assert!(err.to_string().ends_with("error calling index: index out of range"));
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn value_free_errors(mut self, on: bool) -> Template {
        Arc::make_mut(&mut self.set).value_free_errors = on;
        self
    }

    /// Parses `text` as this template's body (Go's `Parse`): `{{define}}`
    /// and `{{block}}` templates in it join the set, replacing ones of the
    /// same name unless the new body is empty. Can be called again to add
    /// more templates.
    ///
    /// ```
    /// use go_text_template::Template;
    /// let t = Template::new("t")
    ///     .parse(r#"{{ define "a" }}A{{ end }}"#)?
    ///     .parse(r#"{{ define "b" }}B{{ end }}{{ template "a" }}{{ template "b" }}"#)?;
    /// let mut out = Vec::new();
    /// t.execute(&mut out, &())?;
    /// assert_eq!(out, b"AB");
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn parse(mut self, text: &str) -> Result<Template, Error> {
        let trees = {
            let set = &*self.set;
            let defined = |f: &str| set.func(f).is_some() || crate::builtins::is_builtin(f);
            let delims = (self.delims.left.as_str(), self.delims.right.as_str());
            crate::parse::parse(&self.name, text, delims, &defined)?
        };
        let parse_name: Arc<str> = Arc::from(self.name.as_str());
        let text: Arc<str> = Arc::from(text);
        let set = Arc::make_mut(&mut self.set);
        for (name, root) in trees {
            // Go's associate: an empty body does not replace a template.
            let empty = crate::parse::is_empty_tree(&root);
            if empty && set.trees.contains_key(&name) {
                continue;
            }
            let tree = Tree {
                root,
                parse_name: parse_name.clone(),
                text: text.clone(),
                delims: self.delims.clone(),
            };
            set.trees.insert(name, Arc::new(tree));
        }
        Ok(self)
    }

    /// The template `name` of the set (Go's `Lookup`), if it was parsed.
    ///
    /// ```
    /// use go_text_template::Template;
    /// let t = Template::new("t").parse(r#"{{ define "x" }}X{{ end }}"#)?;
    /// let x = t.lookup("x").expect("x is defined");
    /// let mut out = Vec::new();
    /// x.execute(&mut out, &())?;
    /// assert_eq!(out, b"X");
    /// assert!(t.lookup("y").is_none());
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn lookup(&self, name: &str) -> Option<Template> {
        self.set.trees.get(name).map(|tree| Template {
            name: name.to_string(),
            set: self.set.clone(),
            limits: self.limits.clone(),
            delims: tree.delims.clone(),
        })
    }

    /// The names of the set's templates, sorted.
    ///
    /// ```
    /// use go_text_template::Template;
    /// let t = Template::new("t").parse(r#"{{ define "x" }}{{ end }}"#)?;
    /// assert_eq!(t.template_names(), ["t", "x"]);
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn template_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.set.trees.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Go's `DefinedTemplates`: `; defined templates are: "a", "b"`, or
    /// an empty string; names sorted (Go's order is random).
    ///
    /// ```
    /// use go_text_template::Template;
    /// let t = Template::new("t").parse(r#"{{ define "x" }}{{ end }}"#)?;
    /// assert_eq!(t.defined_templates(), r#"; defined templates are: "t", "x""#);
    /// assert_eq!(Template::new("t").defined_templates(), "");
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn defined_templates(&self) -> String {
        let names = self.template_names();
        if names.is_empty() {
            return String::new();
        }
        let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
        format!("; defined templates are: {}", quoted.join(", "))
    }

    /// Executes the template with `data` as dot, writing to `out` as it
    /// goes (Go's `Execute`; on an error, what was written stays written).
    /// `data` is anything serde can serialize; see the crate docs for the
    /// Go types it becomes.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use go_text_template::Template;
    /// let t = Template::new("t").parse("{{ range $k, $v := . }}{{ $k }}={{ $v }} {{ end }}")?;
    /// let mut out = Vec::new();
    /// t.execute(&mut out, &BTreeMap::from([("b", 2), ("a", 1)]))?;
    /// assert_eq!(out, b"a=1 b=2 ");
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn execute<W, T>(&self, out: &mut W, data: &T) -> Result<(), Error>
    where
        W: Write + ?Sized,
        T: serde::Serialize + ?Sized,
    {
        self.run(&self.name, out, |heap| crate::data::to_dot(heap, data))
    }

    /// Executes the set's template `name` (Go's `ExecuteTemplate`).
    ///
    /// ```
    /// use go_text_template::Template;
    /// let t = Template::new("t").parse(r#"{{ define "row" }}<{{ . }}>{{ end }}"#)?;
    /// let mut out = Vec::new();
    /// t.execute_template(&mut out, "row", &7)?;
    /// assert_eq!(out, b"<7>");
    /// let err = t.execute_template(&mut out, "nope", &7).unwrap_err();
    /// assert_eq!(err.to_string(), r#"template: no template "nope" associated with template "t""#);
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn execute_template<W, T>(&self, out: &mut W, name: &str, data: &T) -> Result<(), Error>
    where
        W: Write + ?Sized,
        T: serde::Serialize + ?Sized,
    {
        if !self.set.trees.contains_key(name) {
            return Err(Error::NoTemplate {
                name: name.to_string(),
                template: self.name.clone(),
            });
        }
        self.run(name, out, |heap| crate::data::to_dot(heap, data))
    }

    /// Executes the template with a dot of [`Value`]s that `make_dot`
    /// builds in the execution's [`Heap`]: for data with exact Go types
    /// (`int64`, `map[string]string`, ...) that serde cannot express.
    ///
    /// ```
    /// use go_text_template::{Elem, Template, Value};
    /// let t = Template::new("t").parse("{{ printf \"%T\" .n }} {{ printf \"%T\" . }}")?;
    /// let mut out = Vec::new();
    /// t.execute_with(&mut out, |heap| {
    ///     let dot = heap.new_map(Elem::Any);
    ///     if let Value::Map(m) = &dot {
    ///         heap.get_mut(*m).entries.insert(b"n"[..].into(), Value::Int64(5));
    ///     }
    ///     dot
    /// })?;
    /// assert_eq!(out, b"int64 map[string]interface {}");
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn execute_with<W>(
        &self,
        out: &mut W,
        make_dot: impl FnOnce(&mut Heap) -> Value,
    ) -> Result<(), Error>
    where
        W: Write + ?Sized,
    {
        self.run(&self.name, out, |heap| Ok(make_dot(heap)))
    }

    /// Executes with a `map[string]string` as dot whose values are any bytes
    /// (Go strings are bytes), within `limits` instead of the template's:
    /// how Sealed Secrets renders `spec.template.data` with the decrypted
    /// items. Returns the output.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use go_text_template::{Limits, Template};
    /// let t = Template::new("dsn").with_sprig().parse("postgres://{{ .user }}:{{ .password | urlquery }}@db")?;
    /// let items = BTreeMap::from([
    ///     ("user".to_string(), b"app".to_vec()),
    ///     ("password".to_string(), b"p@ss".to_vec()),
    /// ]);
    /// let out = t.execute_strings(&items, &Limits::default())?;
    /// assert_eq!(out, b"postgres://app:p%40ss@db");
    /// # Ok::<(), go_text_template::Error>(())
    /// ```
    pub fn execute_strings(
        &self,
        data: &BTreeMap<String, Vec<u8>>,
        limits: &Limits,
    ) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        crate::exec::execute(&self.set, &self.name, limits, &mut out, |heap| {
            let map = heap.new_map(Elem::String);
            if let Value::Map(m) = map {
                let entries = &mut heap.get_mut(m).entries;
                for (k, v) in data {
                    entries.insert(k.as_bytes().into(), Value::bytes(v));
                }
            }
            Ok(map)
        })?;
        Ok(out)
    }

    fn run<W: Write + ?Sized>(
        &self,
        name: &str,
        out: &mut W,
        make_dot: impl FnOnce(&mut Heap) -> Result<Value, Error>,
    ) -> Result<(), Error> {
        let mut out = DynWrite(out);
        crate::exec::execute(&self.set, name, &self.limits, &mut out, make_dot)
    }
}

/// A writer of any size behind `dyn Write` (the executor is not generic).
struct DynWrite<'a, W: Write + ?Sized>(&'a mut W);

impl<W: Write + ?Sized> Write for DynWrite<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.write_all(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
