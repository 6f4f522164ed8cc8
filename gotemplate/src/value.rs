//! Values as Go's reflection sees them inside a template: each carries its Go
//! type, because printing, comparison and argument checks depend on it.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::rc::Rc;

use crate::funcs::{Env, FuncError};

/// A Go `string`: any bytes, not necessarily UTF-8.
///
/// ```
/// let s: go_text_template::Bytes = b"\xff binary"[..].into();
/// assert_eq!(s.len(), 8);
/// ```
pub type Bytes = Rc<[u8]>;

/// A value as Go's reflection sees it inside a template: each carries its Go
/// type, because printing, comparison and argument checks depend on it.
/// Functions receive and return these.
///
/// ```
/// use go_text_template::{Elem, Heap, Value};
/// let heap = Heap::default();
/// let list = Value::list(Elem::Any, vec![Value::Int(1), Value::str("a")]);
/// assert_eq!(list.type_name(&heap), "[]interface {}");
/// assert!(list.is_true(&heap));
/// assert!(!Value::str("").is_true(&heap));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Value {
    /// `reflect.Value{}`: a missing map key. An action prints it as `<no value>`.
    Invalid,
    /// A nil `interface{}` (the `nil` keyword, a nil element of a list or dict).
    Nil,
    /// Go `bool`.
    Bool(bool),
    /// Go `int` (64 bits).
    Int(i64),
    /// Go `int64`.
    Int64(i64),
    /// Go `rune` (`int32`): character constants such as `'a'`.
    Int32(i32),
    /// Go `byte` (`uint8`): `index` of a string.
    Uint8(u8),
    /// Go `uint32`.
    Uint32(u32),
    /// Go `uint64`.
    Uint64(u64),
    /// Go `float64`.
    Float64(f64),
    /// Go `string`: any bytes.
    String(Bytes),
    /// A Go slice. Lists are values: functions return new ones.
    List(Rc<List>),
    /// A Go map. Maps are references (`set` changes the map every holder sees),
    /// so they live in the render's [`Heap`].
    Map(MapRef),
    /// A struct or pointer with fields and methods: `time.Time`, `*semver.Version`, ...
    Object(Rc<dyn Object>),
}

/// The element type of a slice or the value type of a map.
///
/// ```
/// use go_text_template::{Elem, Heap, Value};
/// let mut heap = Heap::default();
/// let m = heap.new_map(Elem::String);
/// assert_eq!(m.type_name(&heap), "map[string]string");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Elem {
    /// `interface {}`
    Any,
    /// `string`
    String,
    /// `int`
    Int,
    /// `uint8`: `[]uint8` is Go's `[]byte`
    Uint8,
    /// `[]interface {}`: the element of `chunk`'s `[][]interface {}`.
    AnyList,
}

impl Elem {
    /// Go's zero value of the type (`missingkey=zero`).
    pub(crate) fn zero(self) -> Value {
        match self {
            Elem::Any => Value::Nil,
            Elem::String => Value::str(""),
            Elem::Int => Value::Int(0),
            Elem::Uint8 => Value::Uint8(0),
            Elem::AnyList => Value::list(Elem::Any, Vec::new()),
        }
    }

    /// Go's name of the type.
    ///
    /// ```
    /// assert_eq!(go_text_template::Elem::Any.go_name(), "interface {}");
    /// ```
    pub fn go_name(self) -> &'static str {
        match self {
            Elem::Any => "interface {}",
            Elem::String => "string",
            Elem::Int => "int",
            Elem::Uint8 => "uint8",
            Elem::AnyList => "[]interface {}",
        }
    }
}

/// A Go slice: its element type and items.
///
/// ```
/// use go_text_template::{Elem, Value};
/// let Value::List(list) = Value::list(Elem::String, vec![Value::str("a")]) else { unreachable!() };
/// assert_eq!((list.elem, list.items.len()), (Elem::String, 1));
/// ```
#[derive(Clone, Debug)]
pub struct List {
    /// The element type.
    pub elem: Elem,
    /// The items, each of type `elem` (any type for [`Elem::Any`]).
    pub items: Vec<Value>,
}

/// A handle to a map in the render's [`Heap`].
///
/// ```
/// use go_text_template::{Elem, Heap, Value};
/// let mut heap = Heap::default();
/// let Value::Map(m) = heap.new_map(Elem::Any) else { unreachable!() };
/// assert!(heap.get(m).entries.is_empty());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapRef(pub(crate) usize);

/// A Go map with string keys.
///
/// ```
/// use std::collections::BTreeMap;
/// use go_text_template::{Elem, GoMap, Heap, Value};
/// let mut heap = Heap::default();
/// let m = heap.alloc(GoMap { elem: Elem::String, entries: BTreeMap::from([(b"k"[..].into(), Value::str("v"))]) });
/// assert_eq!(m.type_name(&heap), "map[string]string");
/// ```
#[derive(Clone, Debug)]
pub struct GoMap {
    /// `Elem::Any` is `map[string]interface {}`, `Elem::String` is `map[string]string`.
    pub elem: Elem,
    /// Keys in Go's string order (bytewise), as `range` and `fmt` visit them.
    pub entries: BTreeMap<Bytes, Value>,
}

/// The maps of one render. Dropped with the render, so reference cycles made
/// with `set` cannot leak. A [`MapRef`] is valid only in the heap that made it.
///
/// ```
/// use go_text_template::{Elem, Heap, Value};
/// let mut heap = Heap::default();
/// let Value::Map(m) = heap.new_map(Elem::Any) else { unreachable!() };
/// heap.get_mut(m).entries.insert(b"a"[..].into(), Value::Int(1));
/// assert_eq!(heap.get(m).entries.len(), 1);
/// assert_eq!(heap.len(), 1);
/// ```
#[derive(Debug, Default)]
pub struct Heap {
    maps: Vec<GoMap>,
}

impl Heap {
    /// Stores `map`; returns the [`Value::Map`] that refers to it.
    ///
    /// ```
    /// use go_text_template::{Elem, GoMap, Heap};
    /// let mut heap = Heap::default();
    /// let m = heap.alloc(GoMap { elem: Elem::Any, entries: Default::default() });
    /// assert_eq!(m.type_name(&heap), "map[string]interface {}");
    /// ```
    pub fn alloc(&mut self, map: GoMap) -> Value {
        self.maps.push(map);
        Value::Map(MapRef(self.maps.len() - 1))
    }

    /// An empty map of value type `elem`.
    ///
    /// ```
    /// use go_text_template::{Elem, Heap};
    /// let mut heap = Heap::default();
    /// assert!(!heap.new_map(Elem::Int).is_true(&heap)); // empty maps are false
    /// ```
    pub fn new_map(&mut self, elem: Elem) -> Value {
        self.alloc(GoMap {
            elem,
            entries: BTreeMap::new(),
        })
    }

    /// The map `map` refers to.
    ///
    /// # Panics
    ///
    /// If `map` was made by another heap.
    ///
    /// ```
    /// use go_text_template::{Elem, Heap, Value};
    /// let mut heap = Heap::default();
    /// let Value::Map(m) = heap.new_map(Elem::String) else { unreachable!() };
    /// assert_eq!(heap.get(m).elem, Elem::String);
    /// ```
    pub fn get(&self, map: MapRef) -> &GoMap {
        &self.maps[map.0]
    }

    /// The map `map` refers to, to change it.
    ///
    /// # Panics
    ///
    /// If `map` was made by another heap.
    ///
    /// ```
    /// use go_text_template::{Elem, Heap, Value};
    /// let mut heap = Heap::default();
    /// let Value::Map(m) = heap.new_map(Elem::String) else { unreachable!() };
    /// heap.get_mut(m).entries.insert(b"k"[..].into(), Value::str("v"));
    /// ```
    pub fn get_mut(&mut self, map: MapRef) -> &mut GoMap {
        &mut self.maps[map.0]
    }

    /// How many maps the heap holds.
    ///
    /// ```
    /// assert_eq!(go_text_template::Heap::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.maps.len()
    }

    /// Whether the heap holds no map.
    ///
    /// ```
    /// assert!(go_text_template::Heap::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }
}

/// Go's `reflect.Kind` names, as `kindOf` prints them.
///
/// ```
/// use go_text_template::{Kind, Value};
/// assert_eq!(Value::Int(1).kind(), Kind::Int);
/// assert_eq!(Kind::Slice.go_name(), "slice");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// no value
    Invalid,
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `int32`
    Int32,
    /// `int64`
    Int64,
    /// `uint8`
    Uint8,
    /// `uint32`
    Uint32,
    /// `uint64`
    Uint64,
    /// `float64`
    Float64,
    /// `complex128`
    Complex128,
    /// `string`
    String,
    /// a slice
    Slice,
    /// a map
    Map,
    /// a struct
    Struct,
    /// a pointer
    Ptr,
    /// an interface
    Interface,
}

impl Kind {
    /// Go's name of the kind.
    ///
    /// ```
    /// assert_eq!(go_text_template::Kind::Ptr.go_name(), "ptr");
    /// ```
    pub fn go_name(self) -> &'static str {
        match self {
            Kind::Invalid => "invalid",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Int32 => "int32",
            Kind::Int64 => "int64",
            Kind::Uint8 => "uint8",
            Kind::Uint32 => "uint32",
            Kind::Uint64 => "uint64",
            Kind::Float64 => "float64",
            Kind::Complex128 => "complex128",
            Kind::String => "string",
            Kind::Slice => "slice",
            Kind::Map => "map",
            Kind::Struct => "struct",
            Kind::Ptr => "ptr",
            Kind::Interface => "interface",
        }
    }
}

/// A Go struct or pointer to one, with exported fields and methods: how a
/// function returns something richer than a map (sprig's `time.Time`,
/// `*semver.Version` are objects).
///
/// ```
/// use go_text_template::{Env, Func, FuncError, Heap, Kind, Object, Template, Value};
///
/// #[derive(Debug, PartialEq)]
/// struct Point { x: i64, y: i64 }
///
/// impl Object for Point {
///     fn type_name(&self) -> &'static str { "main.Point" }
///     fn kind(&self) -> Kind { Kind::Struct }
///     fn field(&self, name: &str) -> Option<Value> {
///         match name { "X" => Some(Value::Int(self.x)), "Y" => Some(Value::Int(self.y)), _ => None }
///     }
///     fn method(&self, _: &mut Env<'_>, name: &str, _: &[Value]) -> Option<Result<Value, FuncError>> {
///         (name == "Sum").then(|| Ok(Value::Int(self.x + self.y)))
///     }
///     fn format(&self, _: &Heap) -> Vec<u8> { format!("({},{})", self.x, self.y).into_bytes() }
///     fn as_any(&self) -> &dyn std::any::Any { self }
///     fn equals(&self, other: &dyn Object) -> bool { other.as_any().downcast_ref::<Point>() == Some(self) }
/// }
///
/// let point = Func::from_fn(&[], |_, _| Ok(Value::Object(std::rc::Rc::new(Point { x: 1, y: 2 }))));
/// let t = Template::new("t")
///     .funcs([("point", point)].into_iter().collect())
///     .parse("{{ point }} {{ point.X }} {{ point.Sum }} {{ printf \"%T\" point }}")?;
/// let mut out = Vec::new();
/// t.execute(&mut out, &())?;
/// assert_eq!(out, b"(1,2) 1 3 main.Point");
/// # Ok::<(), go_text_template::Error>(())
/// ```
pub trait Object: Debug {
    /// Go's type name, as `typeOf` prints it: `time.Time`, `*semver.Version`.
    fn type_name(&self) -> &'static str;
    /// Go's kind: [`Kind::Struct`], or [`Kind::Ptr`] for a pointer.
    fn kind(&self) -> Kind;
    /// An exported field (`.Cert`), if the type has one by that name.
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    /// Calls an exported method (`.Major`, `.Format "2006"`); `None` if there
    /// is no method of that name.
    fn method(
        &self,
        _env: &mut Env<'_>,
        _name: &str,
        _args: &[Value],
    ) -> Option<Result<Value, FuncError>> {
        None
    }
    /// `fmt`'s `%v` (the `String()` method where the type has one).
    fn format(&self, heap: &Heap) -> Vec<u8>;
    /// Whether [`Object::format`] is a `String()` or `Error()` method, which
    /// `fmt` calls for `%v %s %x %X %q`; false where it only mirrors `fmt`'s
    /// printing of the fields.
    fn has_string_method(&self) -> bool {
        true
    }
    /// A named integer type (`time.Month`, `time.Duration`): its value. Go's
    /// reflection sees the integer kind, so such a value is an integer for
    /// truth, comparison, `index`, arithmetic, JSON and `printf`'s integer verbs.
    fn int_value(&self) -> Option<i64> {
        None
    }
    /// A value of the same named integer type holding `i` (`range` over one).
    fn with_int_value(&self, _i: i64) -> Option<Value> {
        None
    }
    /// What `fmt` prints for a struct (or a pointer to one) when no method
    /// applies (`%d`, `%#v`): its fields in order, with unexported ones, as
    /// `fmt`'s reflection sees them.
    fn fields(&self) -> Option<Vec<(&'static str, Value)>> {
        None
    }
    /// The `GoString()` method (what `%#v` prints) where the type has one.
    fn go_string(&self) -> Option<Vec<u8>> {
        None
    }
    /// A nil pointer.
    fn is_nil(&self) -> bool {
        false
    }
    /// For functions that take this concrete type (`genSignedCert`'s CA).
    fn as_any(&self) -> &dyn std::any::Any;
    /// Go `==` on two values of this type (structs compare field by field).
    fn equals(&self, other: &dyn Object) -> bool;
}

impl Value {
    /// A Go `string` of the text `s`.
    ///
    /// ```
    /// assert_eq!(go_text_template::Value::str("a").as_bytes(), Some(&b"a"[..]));
    /// ```
    pub fn str(s: &str) -> Value {
        Value::String(Rc::from(s.as_bytes()))
    }
    /// A Go `string` of any bytes.
    ///
    /// ```
    /// assert_eq!(go_text_template::Value::bytes(b"\xff").as_bytes(), Some(&b"\xff"[..]));
    /// ```
    pub fn bytes(b: &[u8]) -> Value {
        Value::String(Rc::from(b))
    }
    /// A Go `string` of the text `s`.
    ///
    /// ```
    /// assert_eq!(go_text_template::Value::string("a".repeat(2)).as_bytes(), Some(&b"aa"[..]));
    /// ```
    pub fn string(s: String) -> Value {
        Value::String(Rc::from(s.into_bytes().into_boxed_slice()))
    }
    /// A Go slice of element type `elem`.
    ///
    /// ```
    /// use go_text_template::{Elem, Heap, Value};
    /// let l = Value::list(Elem::Int, vec![Value::Int(1)]);
    /// assert_eq!(l.type_name(&Heap::default()), "[]int");
    /// ```
    pub fn list(elem: Elem, items: Vec<Value>) -> Value {
        Value::List(Rc::new(List { elem, items }))
    }

    /// Go's type name as `%T` and `typeOf` print it.
    ///
    /// ```
    /// use go_text_template::{Heap, Value};
    /// assert_eq!(Value::Float64(1.0).type_name(&Heap::default()), "float64");
    /// ```
    pub fn type_name(&self, heap: &Heap) -> String {
        match self {
            Value::Invalid | Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Int64(_) => "int64".into(),
            Value::Int32(_) => "int32".into(),
            Value::Uint8(_) => "uint8".into(),
            Value::Uint32(_) => "uint32".into(),
            Value::Uint64(_) => "uint64".into(),
            Value::Float64(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::List(l) => format!("[]{}", l.elem.go_name()),
            Value::Map(m) => format!("map[string]{}", heap.get(*m).elem.go_name()),
            Value::Object(o) => o.type_name().into(),
        }
    }

    /// Go's `reflect.Kind` of the value.
    ///
    /// ```
    /// use go_text_template::{Kind, Value};
    /// assert_eq!(Value::Nil.kind(), Kind::Invalid);
    /// ```
    pub fn kind(&self) -> Kind {
        match self {
            Value::Invalid | Value::Nil => Kind::Invalid,
            Value::Bool(_) => Kind::Bool,
            Value::Int(_) => Kind::Int,
            Value::Int64(_) => Kind::Int64,
            Value::Int32(_) => Kind::Int32,
            Value::Uint8(_) => Kind::Uint8,
            Value::Uint32(_) => Kind::Uint32,
            Value::Uint64(_) => Kind::Uint64,
            Value::Float64(_) => Kind::Float64,
            Value::String(_) => Kind::String,
            Value::List(_) => Kind::Slice,
            Value::Map(_) => Kind::Map,
            Value::Object(o) => o.kind(),
        }
    }

    /// Go template truthiness: false, 0, nil, and empty strings, slices and maps are false.
    ///
    /// ```
    /// use go_text_template::{Heap, Value};
    /// assert!(!Value::Int(0).is_true(&Heap::default()));
    /// ```
    pub fn is_true(&self, heap: &Heap) -> bool {
        match self {
            Value::Invalid | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Int32(i) => *i != 0,
            Value::Uint8(i) => *i != 0,
            Value::Uint32(i) => *i != 0,
            Value::Uint64(i) => *i != 0,
            Value::Float64(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.items.is_empty(),
            Value::Map(m) => !heap.get(*m).entries.is_empty(),
            Value::Object(o) => match (o.int_value(), o.as_any().downcast_ref::<Complex>()) {
                (Some(i), _) => i != 0,
                (None, Some(c)) => c.re != 0.0 || c.im != 0.0,
                (None, None) => !o.is_nil(),
            },
        }
    }

    /// A signed integer of any Go size, named integer types (`time.Month`)
    /// included: what Go's reflection reads with `Int()`.
    ///
    /// ```
    /// assert_eq!(go_text_template::Value::Int64(-3).int_kind_value(), Some(-3));
    /// ```
    pub fn int_kind_value(&self) -> Option<i64> {
        match self {
            Value::Object(o) => o.int_value(),
            v => v.as_i64(),
        }
    }

    /// The bytes of a Go `string`.
    ///
    /// ```
    /// assert_eq!(go_text_template::Value::Int(1).as_bytes(), None);
    /// ```
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Signed integers of any Go size.
    ///
    /// ```
    /// assert_eq!(go_text_template::Value::Int(7).as_i64(), Some(7));
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) | Value::Int64(i) => Some(*i),
            Value::Int32(i) => Some(i64::from(*i)),
            _ => None,
        }
    }

    /// Unsigned integers of any Go size.
    ///
    /// ```
    /// assert_eq!(go_text_template::Value::Uint64(7).as_u64(), Some(7));
    /// ```
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Uint8(i) => Some(u64::from(*i)),
            Value::Uint32(i) => Some(u64::from(*i)),
            Value::Uint64(i) => Some(*i),
            _ => None,
        }
    }
}

/// A pointer held in a struct's field (`time.Time`'s `loc`), as `fmt`
/// prints it: nil, or an address (a fixed stand-in: Go's are not reproducible).
/// Only `time.Time` (sprig-time) holds one.
#[cfg_attr(not(feature = "sprig-time"), allow(dead_code))]
#[derive(Debug)]
pub struct Pointer {
    pub type_name: &'static str,
    pub nil: bool,
}

impl Object for Pointer {
    fn type_name(&self) -> &'static str {
        self.type_name
    }
    fn kind(&self) -> Kind {
        Kind::Ptr
    }
    fn format(&self, _: &Heap) -> Vec<u8> {
        if self.nil {
            b"<nil>".to_vec()
        } else {
            b"0xc000020000".to_vec()
        }
    }
    fn has_string_method(&self) -> bool {
        false
    }
    fn is_nil(&self) -> bool {
        self.nil
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn equals(&self, other: &dyn Object) -> bool {
        other
            .as_any()
            .downcast_ref::<Pointer>()
            .is_some_and(|o| o.nil && self.nil)
    }
}

/// A `complex128` constant (`{{ 2i }}`): rare, so an object rather than a
/// value kind of its own.
#[derive(Debug)]
pub struct Complex {
    pub re: f64,
    pub im: f64,
}

impl Object for Complex {
    fn type_name(&self) -> &'static str {
        "complex128"
    }
    fn kind(&self) -> Kind {
        Kind::Complex128
    }
    fn format(&self, _: &Heap) -> Vec<u8> {
        let mut out = vec![b'('];
        out.extend(crate::strconv::format_float(self.re, b'g', -1));
        let im = crate::strconv::format_float(self.im, b'g', -1);
        if !im.starts_with(b"-") {
            out.push(b'+');
        }
        out.extend(im);
        out.extend_from_slice(b"i)");
        out
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn equals(&self, other: &dyn Object) -> bool {
        other
            .as_any()
            .downcast_ref::<Complex>()
            .is_some_and(|o| o.re == self.re && o.im == self.im)
    }
}
