//! The function interface: what a template function declares (its Go
//! signature) and what it gets to work with while it runs ([`Env`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::value::{Heap, Value};

/// Why a function failed.
///
/// A [`FuncError::Reason`] becomes Go's `error calling NAME: REASON`
/// ([`Error::Func`](crate::Error::Func)); a [`FuncError::Limit`] ends the
/// render with [`Error::Limit`](crate::Error::Limit).
///
/// Put an argument or result into the reason only when
/// [`Env::values_in_errors`] allows it: error texts of a render with
/// [`Template::value_free_errors`](crate::Template::value_free_errors) go to
/// places (logs, statuses) that must not see the data.
///
/// ```
/// use go_text_template::FuncError;
/// let e = FuncError::reason("divide by zero");
/// assert_eq!(e.to_string(), "divide by zero");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FuncError {
    /// Go's error text, as the function's `error` result would say it.
    Reason(Cow<'static, str>),
    /// A bound of the render was reached (time, memory, output, depth).
    Limit(crate::limits::Limit),
}

impl FuncError {
    /// A failure with Go's error text `text`.
    ///
    /// ```
    /// # use go_text_template::FuncError;
    /// assert_eq!(FuncError::reason(format!("want {} args", 2)).to_string(), "want 2 args");
    /// ```
    pub fn reason(text: impl Into<Cow<'static, str>>) -> Self {
        FuncError::Reason(text.into())
    }
}

impl std::fmt::Display for FuncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FuncError::Reason(r) => f.write_str(r),
            FuncError::Limit(l) => write!(f, "{l}"),
        }
    }
}

impl std::error::Error for FuncError {}

/// The Go type of a parameter. The executor converts and checks arguments
/// against it exactly as Go's `text/template` does, so a function receives
/// only values of that type (`Any` receives anything; a missing value
/// arrives as [`Value::Nil`]).
///
/// ```
/// use go_text_template::Type;
/// assert_eq!(Type::Map.go_name(), "map[string]interface {}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Type {
    /// `interface {}`
    Any,
    /// `string`: a [`Value::String`].
    String,
    /// `int`: a [`Value::Int`].
    Int,
    /// `int64`: a [`Value::Int64`].
    Int64,
    /// `uint32`: a [`Value::Uint32`].
    Uint32,
    /// `float64`: a [`Value::Float64`].
    Float64,
    /// `bool`: a [`Value::Bool`].
    Bool,
    /// `map[string]interface {}`
    Map,
    /// `[]interface {}`
    List,
    /// `time.Time`
    Time,
    /// sprig's `certificate` struct
    Certificate,
    /// `reflect.Value`: text/template's own functions take values as they are.
    Value,
}

impl Type {
    /// Go's name of the type, as error texts print it.
    ///
    /// ```
    /// assert_eq!(go_text_template::Type::Any.go_name(), "interface {}");
    /// ```
    pub fn go_name(self) -> &'static str {
        match self {
            Type::Any => "interface {}",
            Type::String => "string",
            Type::Int => "int",
            Type::Int64 => "int64",
            Type::Uint32 => "uint32",
            Type::Float64 => "float64",
            Type::Bool => "bool",
            Type::Map => "map[string]interface {}",
            Type::List => "[]interface {}",
            Type::Time => "time.Time",
            Type::Certificate => "sprig.certificate",
            Type::Value => "reflect.Value",
        }
    }
}

/// A built-in function: a plain `fn`, so the tables of sprig's functions are
/// constants.
pub(crate) type Native = fn(&mut Env<'_>, &[Value]) -> Result<Value, FuncError>;

/// A function given as a closure.
type Closure = dyn Fn(&mut Env<'_>, &[Value]) -> Result<Value, FuncError> + Send + Sync;

#[derive(Clone)]
enum Body {
    Native(Native),
    Closure(Arc<Closure>),
}

/// One template function and its Go signature: what Go's `FuncMap` holds.
///
/// The executor checks and converts the arguments to the parameter types
/// before the call, with Go's rules and error texts, so the body can rely on
/// them. Functions may be called from several threads at once (templates are
/// `Send + Sync`).
///
/// ```
/// use go_text_template::{Func, Type, Value};
///
/// // func(s string, n int) string
/// let repeat = Func::from_fn(&[Type::String, Type::Int], |env, args| {
///     let (Some(s), Some(n)) = (args[0].as_bytes(), args[1].as_i64()) else {
///         unreachable!("the executor converts the arguments")
///     };
///     let n = usize::try_from(n).unwrap_or(0);
///     env.charge(s.len().saturating_mul(n))?; // bounded by the render's memory limit
///     Ok(Value::bytes(&s.repeat(n)))
/// });
/// assert_eq!(repeat.params(), &[Type::String, Type::Int]);
/// ```
#[derive(Clone)]
pub struct Func {
    /// The name a table gave it (sprig's tables), for `Debug`.
    pub(crate) name: &'static str,
    params: Cow<'static, [Type]>,
    variadic: Option<Type>,
    body: Body,
}

// The constructors and insert_all are for sprig's tables.
#[cfg_attr(not(feature = "sprig"), allow(dead_code))]
impl Func {
    /// A function of fixed parameters (Go's `func(a A, b B) R`).
    pub(crate) const fn new(name: &'static str, params: &'static [Type], call: Native) -> Func {
        Func {
            name,
            params: Cow::Borrowed(params),
            variadic: None,
            body: Body::Native(call),
        }
    }

    /// A function whose last parameter is `...rest`.
    pub(crate) const fn variadic(
        name: &'static str,
        params: &'static [Type],
        rest: Type,
        call: Native,
    ) -> Func {
        Func {
            name,
            params: Cow::Borrowed(params),
            variadic: Some(rest),
            body: Body::Native(call),
        }
    }

    /// A function of the fixed parameters `params` (Go's
    /// `func(a A, b B) (R, error)`): `body` gets one argument per parameter,
    /// each of its type.
    ///
    /// ```
    /// use go_text_template::{Func, Type, Value};
    /// let shout = Func::from_fn(&[Type::String], |_, args| {
    ///     Ok(Value::bytes(&args[0].as_bytes().unwrap_or_default().to_ascii_uppercase()))
    /// });
    /// assert_eq!(shout.params().len(), 1);
    /// ```
    pub fn from_fn<F>(params: &[Type], body: F) -> Func
    where
        F: Fn(&mut Env<'_>, &[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
    {
        Func {
            name: "closure",
            params: Cow::Owned(params.to_vec()),
            variadic: None,
            body: Body::Closure(Arc::new(body)),
        }
    }

    /// A function whose last parameter is `...rest` (Go's
    /// `func(a A, rest ...T)`): `body` gets the fixed arguments, then any
    /// number of arguments of type `rest`.
    ///
    /// ```
    /// use go_text_template::{Func, Type, Value};
    /// // func(parts ...string) int
    /// let count = Func::from_fn_variadic(&[], Type::String, |_, args| Ok(Value::Int(args.len() as i64)));
    /// assert_eq!(count.rest(), Some(Type::String));
    /// ```
    pub fn from_fn_variadic<F>(params: &[Type], rest: Type, body: F) -> Func
    where
        F: Fn(&mut Env<'_>, &[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
    {
        Func {
            variadic: Some(rest),
            ..Func::from_fn(params, body)
        }
    }

    /// The fixed parameters.
    ///
    /// ```
    /// # if !cfg!(feature = "sprig") { return; }
    /// let f = go_text_template::sprig().get("repeat").cloned().expect("sprig has repeat");
    /// assert_eq!(f.params(), &[go_text_template::Type::Int, go_text_template::Type::String]);
    /// ```
    pub fn params(&self) -> &[Type] {
        &self.params
    }

    /// The type of the `...rest` parameter, if the function has one.
    ///
    /// ```
    /// # if !cfg!(feature = "sprig") { return; }
    /// let list = go_text_template::sprig().get("list").cloned().expect("sprig has list");
    /// assert_eq!(list.rest(), Some(go_text_template::Type::Any));
    /// ```
    pub fn rest(&self) -> Option<Type> {
        self.variadic
    }

    /// The body of a built-in function.
    #[cfg(test)]
    pub(crate) fn native(&self) -> Option<Native> {
        match self.body {
            Body::Native(f) => Some(f),
            Body::Closure(_) => None,
        }
    }

    /// Runs the body with `env`.
    pub(crate) fn run(&self, env: &mut Env<'_>, args: &[Value]) -> Result<Value, FuncError> {
        match &self.body {
            Body::Native(f) => f(env, args),
            Body::Closure(f) => f(env, args),
        }
    }

    /// Calls the function outside a template, with arguments already of its
    /// parameter types and maps in `heap`, within 64 MiB of memory: for
    /// testing a function.
    ///
    /// ```
    /// # if !cfg!(feature = "sprig") { return; }
    /// use go_text_template::{Heap, Value};
    /// let upper = go_text_template::sprig().get("upper").cloned().expect("sprig has upper");
    /// let got = upper.call(&mut Heap::default(), &[Value::str("abc")]);
    /// assert_eq!(got.ok().and_then(|v| v.as_bytes().map(<[u8]>::to_vec)), Some(b"ABC".to_vec()));
    /// ```
    pub fn call(&self, heap: &mut Heap, args: &[Value]) -> Result<Value, FuncError> {
        let mut budget = Budget::new(64 << 20, None);
        let mut env = Env {
            heap,
            budget: &mut budget,
        };
        self.run(&mut env, args)
    }
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Func")
            .field("name", &self.name)
            .field("params", &self.params)
            .field("variadic", &self.variadic)
            .finish()
    }
}

/// Functions by name: Go's `template.FuncMap`. Cheap to clone (the map is
/// shared until one clone changes).
///
/// ```
/// use go_text_template::{Func, FuncMap, Type, Value};
/// let mut funcs = FuncMap::new();
/// funcs.insert("answer", Func::from_fn(&[], |_, _| Ok(Value::Int(42))));
/// assert!(funcs.contains("answer"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct FuncMap {
    funcs: Arc<HashMap<Cow<'static, str>, Func>>,
}

impl FuncMap {
    /// An empty map.
    ///
    /// ```
    /// assert!(go_text_template::FuncMap::new().is_empty());
    /// ```
    pub fn new() -> Self {
        FuncMap::default()
    }

    /// Adds (or replaces) the function `name`. A name that is not a Go
    /// identifier can never be called.
    ///
    /// ```
    /// use go_text_template::{Func, FuncMap, Value};
    /// let mut funcs = FuncMap::new();
    /// funcs.insert(String::from("one"), Func::from_fn(&[], |_, _| Ok(Value::Int(1))));
    /// assert_eq!(funcs.len(), 1);
    /// ```
    pub fn insert(&mut self, name: impl Into<Cow<'static, str>>, func: Func) -> &mut Self {
        Arc::make_mut(&mut self.funcs).insert(name.into(), func);
        self
    }

    /// The function `name`.
    ///
    /// ```
    /// # if !cfg!(feature = "sprig") { return; }
    /// assert!(go_text_template::sprig().get("trim").is_some());
    /// ```
    pub fn get(&self, name: &str) -> Option<&Func> {
        self.funcs.get(name)
    }

    /// Whether the map has a function `name`.
    ///
    /// ```
    /// assert!(!go_text_template::FuncMap::new().contains("trim"));
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }

    /// How many functions the map holds.
    ///
    /// ```
    /// # if !cfg!(feature = "sprig") { return; }
    /// assert!(go_text_template::sprig().len() > 100);
    /// ```
    pub fn len(&self) -> usize {
        self.funcs.len()
    }

    /// Whether the map is empty.
    ///
    /// ```
    /// # if !cfg!(feature = "sprig") { return; }
    /// assert!(!go_text_template::sprig().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.funcs.is_empty()
    }

    /// The names, in no particular order.
    ///
    /// ```
    /// # if !cfg!(feature = "sprig") { return; }
    /// assert!(go_text_template::sprig().names().any(|n| n == "b64enc"));
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.funcs.keys().map(|k| k.as_ref())
    }
}

impl<N: Into<Cow<'static, str>>> FromIterator<(N, Func)> for FuncMap {
    fn from_iter<I: IntoIterator<Item = (N, Func)>>(iter: I) -> Self {
        let mut map = FuncMap::new();
        map.extend(iter);
        map
    }
}

impl<N: Into<Cow<'static, str>>> Extend<(N, Func)> for FuncMap {
    fn extend<I: IntoIterator<Item = (N, Func)>>(&mut self, iter: I) {
        let funcs = Arc::make_mut(&mut self.funcs);
        for (name, func) in iter {
            funcs.insert(name.into(), func);
        }
    }
}

#[cfg_attr(not(feature = "sprig"), allow(dead_code))]
pub(crate) fn insert_all(map: &mut FuncMap, funcs: &[Func]) {
    map.extend(funcs.iter().map(|f| (f.name, f.clone())));
}

/// What a render may still spend, and whether its error texts may hold values.
#[derive(Debug)]
pub(crate) struct Budget {
    /// Bytes that values made during the render may take, all together.
    pub(crate) alloc_left: usize,
    pub(crate) deadline: Option<Instant>,
    /// Calls to `check_time` since the clock was last read.
    pub(crate) ticks: u32,
    /// Whether error texts may quote values as Go's do.
    pub(crate) values_in_errors: bool,
}

impl Budget {
    pub(crate) fn new(alloc: usize, deadline: Option<Instant>) -> Self {
        Budget {
            alloc_left: alloc,
            deadline,
            ticks: 0,
            values_in_errors: false,
        }
    }

    /// Bytes still free.
    pub(crate) fn left(&self) -> usize {
        self.alloc_left
    }

    pub(crate) fn charge(&mut self, bytes: usize) -> Result<(), FuncError> {
        match self.alloc_left.checked_sub(bytes) {
            Some(left) => {
                self.alloc_left = left;
                Ok(())
            }
            None => {
                self.alloc_left = 0;
                Err(FuncError::Limit(crate::limits::Limit::Memory))
            }
        }
    }

    pub(crate) fn check_time(&mut self) -> Result<(), FuncError> {
        self.ticks = self.ticks.wrapping_add(1);
        if !self.ticks.is_multiple_of(256) {
            return Ok(());
        }
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(FuncError::Limit(crate::limits::Limit::Time)),
            _ => Ok(()),
        }
    }
}

/// What a function works with while it runs: the render's maps (a
/// [`Value::Map`] is a handle into them) and its bounds.
///
/// ```
/// use go_text_template::{Elem, Func, Value};
/// // A function that makes a map: {"answer": 42}.
/// let answer = Func::from_fn(&[], |env, _| {
///     env.charge(64)?;
///     let map = env.heap_mut().new_map(Elem::Any);
///     if let Value::Map(m) = &map {
///         env.heap_mut().get_mut(*m).entries.insert(b"answer"[..].into(), Value::Int(42));
///     }
///     Ok(map)
/// });
/// # let _ = answer;
/// ```
pub struct Env<'a> {
    pub(crate) heap: &'a mut Heap,
    pub(crate) budget: &'a mut Budget,
}

impl Env<'_> {
    /// The render's maps, to read a [`Value::Map`].
    ///
    /// ```
    /// use go_text_template::{Func, Type, Value};
    /// let size = Func::from_fn(&[Type::Map], |env, args| match &args[0] {
    ///     Value::Map(m) => Ok(Value::Int(env.heap().get(*m).entries.len() as i64)),
    ///     _ => Ok(Value::Int(0)), // a nil map
    /// });
    /// # let _ = size;
    /// ```
    pub fn heap(&self) -> &Heap {
        self.heap
    }

    /// The render's maps, to make or change a map.
    ///
    /// ```
    /// use go_text_template::{Elem, Func, Value};
    /// let empty = Func::from_fn(&[], |env, _| Ok(env.heap_mut().new_map(Elem::String)));
    /// # let _ = empty;
    /// ```
    pub fn heap_mut(&mut self) -> &mut Heap {
        self.heap
    }

    /// Call before making a value of about `bytes` bytes (a string, a list's
    /// items at 16 bytes each, a map's entries): fails once the render's
    /// memory bound is reached, so no function can allocate without bound.
    ///
    /// ```
    /// use go_text_template::{Func, Type, Value};
    /// let double = Func::from_fn(&[Type::String], |env, args| {
    ///     let s = args[0].as_bytes().unwrap_or_default();
    ///     env.charge(s.len() * 2)?;
    ///     Ok(Value::bytes(&[s, s].concat()))
    /// });
    /// # let _ = double;
    /// ```
    pub fn charge(&mut self, bytes: usize) -> Result<(), FuncError> {
        self.budget.charge(bytes)
    }

    /// Call in any loop whose length the input decides: fails once the
    /// render's time is up.
    ///
    /// ```
    /// use go_text_template::{Func, Type, Value};
    /// let count_a = Func::from_fn(&[Type::String], |env, args| {
    ///     let mut n = 0;
    ///     for b in args[0].as_bytes().unwrap_or_default() {
    ///         env.check_time()?;
    ///         n += i64::from(*b == b'a');
    ///     }
    ///     Ok(Value::Int(n))
    /// });
    /// # let _ = count_a;
    /// ```
    pub fn check_time(&mut self) -> Result<(), FuncError> {
        self.budget.check_time()
    }

    /// Whether an error text may quote an argument or a value, as Go's
    /// often do; false when the template has
    /// [`value_free_errors`](crate::Template::value_free_errors) on.
    ///
    /// ```
    /// use go_text_template::{Func, FuncError, Type, Value};
    /// let must_be_yes = Func::from_fn(&[Type::String], |env, args| {
    ///     let s = args[0].as_bytes().unwrap_or_default();
    ///     if s == b"yes" {
    ///         return Ok(Value::Bool(true));
    ///     }
    ///     Err(if env.values_in_errors() {
    ///         FuncError::reason(format!("{:?} is not yes", String::from_utf8_lossy(s)))
    ///     } else {
    ///         FuncError::reason("the value is not yes")
    ///     })
    /// });
    /// # let _ = must_be_yes;
    /// ```
    pub fn values_in_errors(&self) -> bool {
        self.budget.values_in_errors
    }
}
