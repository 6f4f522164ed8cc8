//! What a template set holds once parsed: its trees, each with the text it
//! came from, its functions and its options. Shared by the public
//! [`Template`](crate::Template) and the executor.

use std::collections::HashMap;
use std::sync::Arc;

use crate::funcs::{Func, FuncMap};
use crate::parse::node::Node;

/// What a missing map key gives: Go's `missingkey` option.
///
/// ```
/// use go_text_template::{MissingKey, Template};
/// let t = Template::new("t").missing_key(MissingKey::Error).parse("{{ .nope }}").unwrap();
/// let err = t.execute(&mut Vec::new(), &std::collections::BTreeMap::<String, String>::new());
/// assert_eq!(
///     err.unwrap_err().to_string(),
///     r#"template: t:1:3: executing "t" at <.nope>: map has no entry for key "nope""#
/// );
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissingKey {
    /// `missingkey=default` (or `invalid`): no value, printed `<no value>`.
    #[default]
    Default,
    /// `missingkey=zero`: the zero value of the map's element type (`""`
    /// for `map[string]string`; for `map[string]interface {}` a nil that
    /// prints, as in Go, `<no value>`).
    Zero,
    /// `missingkey=error`: execution stops with an error.
    Error,
}

/// One named template: its tree and the text it was parsed from (for the
/// line and column of execution errors).
#[derive(Debug)]
pub(crate) struct Tree {
    pub(crate) root: Vec<Node>,
    /// The name the text was parsed under (Go's `ParseName`).
    pub(crate) parse_name: Arc<str>,
    pub(crate) text: Arc<str>,
    /// The delimiters it was parsed with: a template from `lookup` has them
    /// (Go's `New` gives a defined template its parser's delimiters).
    pub(crate) delims: Delims,
}

/// A template's action delimiters (Go's are per template, not per set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Delims {
    pub(crate) left: String,
    pub(crate) right: String,
}

impl Default for Delims {
    fn default() -> Self {
        Delims {
            left: crate::parse::LEFT.to_string(),
            right: crate::parse::RIGHT.to_string(),
        }
    }
}

/// A template set: Go's `common` plus the options.
#[derive(Clone, Debug)]
pub(crate) struct Set {
    pub(crate) trees: HashMap<String, Arc<Tree>>,
    /// Function maps in the order they were added; a later one wins.
    pub(crate) funcs: Vec<FuncMap>,
    pub(crate) missing_key: MissingKey,
    pub(crate) value_free_errors: bool,
}

impl Default for Set {
    fn default() -> Self {
        Set {
            trees: HashMap::new(),
            funcs: Vec::new(),
            missing_key: MissingKey::Default,
            value_free_errors: false,
        }
    }
}

impl Set {
    /// The function `name`, the latest map first.
    pub(crate) fn func(&self, name: &str) -> Option<&Func> {
        self.funcs.iter().rev().find_map(|m| m.get(name))
    }
}
