//! Why a template did not parse or render.

use std::sync::Arc;

use crate::limits::Limit;
use crate::parse::ParseError;

/// Why a template did not parse or render. `Display` is Go's text for the
/// same failure (`template: t:1:5: executing "t" at <.x>: ...`), except that
/// a bound ([`Error::Limit`]) has a text of its own, and that with
/// [`Template::value_free_errors`](crate::Template::value_free_errors) no
/// text holds a value from the data.
///
/// ```
/// use go_text_template::{Error, Template};
/// let err = Template::new("t").parse("{{ .x ").unwrap_err();
/// assert!(matches!(err, Error::Parse(_)));
/// assert_eq!(err.to_string(), "template: t:1: unclosed action");
/// assert_eq!((err.template_name(), err.line()), (Some("t"), Some(1)));
/// ```
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not a template.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The executor stopped: a field of the wrong type, an undefined
    /// template, a missing key with `missingkey=error`, ...
    #[error(transparent)]
    Exec(ExecError),
    /// A function returned an error (Go's `error calling NAME: ...`).
    #[error(transparent)]
    Func(ExecError),
    /// [`Template::execute_template`](crate::Template::execute_template)
    /// named a template the set does not have.
    #[error("template: no template {name:?} associated with template {template:?}")]
    NoTemplate {
        /// The name asked for.
        name: String,
        /// The template asked.
        template: String,
    },
    /// A bound of [`Limits`](crate::Limits) was reached.
    #[error("{0}")]
    Limit(Limit),
    /// The output could not be written; the text is the writer's.
    #[error("{0}")]
    Write(Arc<std::io::Error>),
    /// The data is not something a template can see (a map key that is not
    /// a string or a number, or the data's own `Serialize` failed).
    #[error("the data cannot be given to the template: {0}")]
    Data(String),
    /// [`Template::option`](crate::Template::option) got an option Go does
    /// not know (Go panics with this text).
    #[error("{}", if .0.is_empty() { "empty option string".to_string() } else { format!("unrecognized option: {}", .0) })]
    Option(String),
}

impl Error {
    /// The template the error is in, where there is one.
    ///
    /// ```
    /// use go_text_template::Template;
    /// let t = Template::new("page").parse("{{ .a.b }}").unwrap();
    /// let err = t.execute(&mut Vec::new(), &vec![1]).unwrap_err();
    /// assert_eq!(err.template_name(), Some("page"));
    /// ```
    pub fn template_name(&self) -> Option<&str> {
        match self {
            Error::Parse(e) => Some(&e.name),
            Error::Exec(e) | Error::Func(e) => Some(&e.template),
            _ => None,
        }
    }

    /// The line (from 1) of the text where the error is, where known.
    ///
    /// ```
    /// use go_text_template::Template;
    /// let t = Template::new("t").parse("a\n{{ index .x 5 }}").unwrap();
    /// let err = t.execute(&mut Vec::new(), &serde_json::json!({ "x": [1, 2] })).unwrap_err();
    /// assert_eq!((err.line(), err.column()), (Some(2), Some(3)));
    /// ```
    pub fn line(&self) -> Option<usize> {
        match self {
            Error::Parse(e) => Some(e.line),
            Error::Exec(e) | Error::Func(e) => e.location.as_ref().map(|l| l.line),
            _ => None,
        }
    }

    /// The byte column (from 0, as Go counts it) where the error is, where
    /// known (execution errors; Go's parse errors have a line only).
    ///
    /// ```
    /// use go_text_template::Template;
    /// let t = Template::new("t").parse("{{ .x.y }}").unwrap();
    /// let err = t.execute(&mut Vec::new(), &[("x", 1)]).unwrap_err();
    /// assert_eq!(err.column(), Some(5));
    /// ```
    pub fn column(&self) -> Option<usize> {
        match self {
            Error::Exec(e) | Error::Func(e) => e.location.as_ref().map(|l| l.column),
            _ => None,
        }
    }
}

/// Where in which text an execution error is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Location {
    /// The name the text was parsed under (Go's `ParseName`).
    pub(crate) parse_name: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
    /// The node, as Go prints it (`.x.y`, `{{template "a"}}`).
    pub(crate) context: String,
}

/// An error while executing: Go's `template: NAME:LINE:COL: executing
/// "TEMPLATE" at <NODE>: REASON`, or `template: TEMPLATE: REASON` where
/// there is no node.
///
/// ```
/// use go_text_template::{Error, Template};
/// let t = Template::new("t").parse("{{ len 3 }}").unwrap();
/// let Err(Error::Func(e)) = t.execute(&mut Vec::new(), &()) else { panic!() };
/// assert_eq!(e.function(), Some("len"));
/// assert_eq!(e.reason(), "error calling len: len of type int");
/// assert_eq!(e.to_string(), r#"template: t:1:3: executing "t" at <len 3>: error calling len: len of type int"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecError {
    pub(crate) template: String,
    pub(crate) location: Option<Box<Location>>,
    pub(crate) function: Option<String>,
    pub(crate) reason: String,
}

impl ExecError {
    /// The template that was executing.
    ///
    /// ```
    /// use go_text_template::{Error, Template};
    /// let t = Template::new("t").parse(r#"{{ define "x" }}{{ .a.b }}{{ end }}"#).unwrap();
    /// let Err(Error::Exec(e)) = t.execute_template(&mut Vec::new(), "x", &[1]) else { panic!() };
    /// assert_eq!(e.template(), "x");
    /// ```
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The function whose error this is ([`Error::Func`]).
    ///
    /// ```
    /// use go_text_template::{Error, Template};
    /// let t = Template::new("t").parse("{{ .a.b }}").unwrap();
    /// let Err(Error::Exec(e)) = t.execute(&mut Vec::new(), &[1]) else { panic!() };
    /// assert_eq!(e.function(), None);
    /// ```
    pub fn function(&self) -> Option<&str> {
        self.function.as_deref()
    }

    /// Go's reason, without the location.
    ///
    /// ```
    /// use go_text_template::{Error, Template};
    /// let t = Template::new("t").parse(r#"{{ template "nope" }}"#).unwrap();
    /// let Err(Error::Exec(e)) = t.execute(&mut Vec::new(), &()) else { panic!() };
    /// assert_eq!(e.reason(), r#"template "nope" not defined"#);
    /// ```
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            Some(at) => write!(
                f,
                "template: {}:{}:{}: executing {:?} at <{}>: {}",
                at.parse_name, at.line, at.column, self.template, at.context, self.reason
            ),
            None => write!(f, "template: {}: {}", self.template, self.reason),
        }
    }
}

impl std::error::Error for ExecError {}
