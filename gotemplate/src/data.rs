//! Data from anything serde can serialize, as the Go values a template
//! sees: structs and maps become `map[string]interface {}` (keys are the
//! serde names), sequences `[]interface {}`, integers `int` (or `uint64`
//! above `int`'s range), floats `float64`, `None` and `()` nil, bytes and
//! chars strings.

use std::collections::BTreeMap;

use serde::ser::{self, Serialize};

use crate::error::Error;
use crate::value::{Bytes, Elem, GoMap, Heap, Value};

/// `data` as dot: nil data is no value at all, as Go's `Execute(w, nil)`
/// (so `.x` is `<no value>`, not a nil pointer error).
pub(crate) fn to_dot<T: Serialize + ?Sized>(
    heap: &mut Heap,
    data: &T,
) -> std::result::Result<Value, Error> {
    Ok(match to_value(heap, data)? {
        Value::Nil => Value::Invalid,
        v => v,
    })
}

/// `data` as a template value, its maps in `heap`.
fn to_value<T: Serialize + ?Sized>(heap: &mut Heap, data: &T) -> std::result::Result<Value, Error> {
    data.serialize(ToValue { heap })
        .map_err(|DataError(e)| Error::Data(e))
}

/// Why data could not become a value.
#[derive(Debug)]
pub(crate) struct DataError(String);

impl std::fmt::Display for DataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DataError {}

impl ser::Error for DataError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        DataError(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, DataError>;

struct ToValue<'h> {
    heap: &'h mut Heap,
}

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn uint(u: u64) -> Value {
    match i64::try_from(u) {
        Ok(i) => Value::Int(i),
        Err(_) => Value::Uint64(u),
    }
}

impl<'h> ToValue<'h> {
    fn map(&mut self, entries: BTreeMap<Bytes, Value>) -> Value {
        self.heap.alloc(GoMap {
            elem: Elem::Any,
            entries,
        })
    }

    /// `{variant: value}`, as serde's externally tagged enums are in JSON.
    fn tagged(&mut self, variant: &str, value: Value) -> Value {
        let entries = BTreeMap::from([(Bytes::from(variant.as_bytes()), value)]);
        self.map(entries)
    }
}

impl<'h> ser::Serializer for ToValue<'h> {
    type Ok = Value;
    type Error = DataError;
    type SerializeSeq = Seq<'h>;
    type SerializeTuple = Seq<'h>;
    type SerializeTupleStruct = Seq<'h>;
    type SerializeTupleVariant = Seq<'h>;
    type SerializeMap = Map<'h>;
    type SerializeStruct = Map<'h>;
    type SerializeStructVariant = Map<'h>;

    fn serialize_bool(self, v: bool) -> Result<Value> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value> {
        Ok(int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value> {
        Ok(int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value> {
        Ok(int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value> {
        Ok(int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value> {
        match (i64::try_from(v), u64::try_from(v)) {
            (Ok(i), _) => Ok(int(i)),
            (_, Ok(u)) => Ok(uint(u)),
            _ => Err(DataError("an integer beyond 64 bits".into())),
        }
    }
    fn serialize_u8(self, v: u8) -> Result<Value> {
        Ok(uint(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value> {
        Ok(uint(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value> {
        Ok(uint(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value> {
        Ok(uint(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value> {
        u64::try_from(v)
            .map(uint)
            .map_err(|_| DataError("an integer beyond 64 bits".into()))
    }
    fn serialize_f32(self, v: f32) -> Result<Value> {
        Ok(Value::Float64(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value> {
        Ok(Value::Float64(v))
    }
    fn serialize_char(self, v: char) -> Result<Value> {
        Ok(Value::string(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(Value::str(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        Ok(Value::bytes(v))
    }
    fn serialize_none(self) -> Result<Value> {
        Ok(Value::Nil)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value> {
        Ok(Value::Nil)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value> {
        Ok(Value::Nil)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value> {
        Ok(Value::str(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value> {
        let inner = value.serialize(ToValue {
            heap: &mut *self.heap,
        })?;
        Ok(self.tagged(variant, inner))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'h>> {
        Ok(Seq {
            heap: self.heap,
            items: Vec::with_capacity(len.unwrap_or(0).min(1024)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'h>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'h>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq<'h>> {
        let mut seq = self.serialize_seq(Some(len))?;
        seq.variant = Some(variant);
        Ok(seq)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Map<'h>> {
        Ok(Map {
            heap: self.heap,
            entries: BTreeMap::new(),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Map<'h>> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Map<'h>> {
        let mut map = self.serialize_map(Some(len))?;
        map.variant = Some(variant);
        Ok(map)
    }
}

/// A sequence being built: `[]interface {}`.
pub(crate) struct Seq<'h> {
    heap: &'h mut Heap,
    items: Vec<Value>,
    variant: Option<&'static str>,
}

impl Seq<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let v = value.serialize(ToValue {
            heap: &mut *self.heap,
        })?;
        self.items.push(v);
        Ok(())
    }

    fn finish(self) -> Value {
        let list = Value::list(Elem::Any, self.items);
        match self.variant {
            Some(variant) => ToValue { heap: self.heap }.tagged(variant, list),
            None => list,
        }
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = Value;
    type Error = DataError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.finish())
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = Value;
    type Error = DataError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.finish())
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = Value;
    type Error = DataError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.finish())
    }
}

impl ser::SerializeTupleVariant for Seq<'_> {
    type Ok = Value;
    type Error = DataError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.finish())
    }
}

/// A map or struct being built: `map[string]interface {}`.
pub(crate) struct Map<'h> {
    heap: &'h mut Heap,
    entries: BTreeMap<Bytes, Value>,
    /// A key waiting for its value.
    key: Option<Bytes>,
    variant: Option<&'static str>,
}

impl Map<'_> {
    fn insert<T: Serialize + ?Sized>(&mut self, key: Bytes, value: &T) -> Result<()> {
        let v = value.serialize(ToValue {
            heap: &mut *self.heap,
        })?;
        self.entries.insert(key, v);
        Ok(())
    }

    fn finish(self) -> Value {
        let mut to = ToValue { heap: self.heap };
        let map = to.map(self.entries);
        match self.variant {
            Some(variant) => to.tagged(variant, map),
            None => map,
        }
    }
}

impl ser::SerializeMap for Map<'_> {
    type Ok = Value;
    type Error = DataError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(key.serialize(MapKey)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| DataError("a map value without a key".into()))?;
        self.insert(key, value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.finish())
    }
}

impl ser::SerializeStruct for Map<'_> {
    type Ok = Value;
    type Error = DataError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.insert(Bytes::from(key.as_bytes()), value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.finish())
    }
}

impl ser::SerializeStructVariant for Map<'_> {
    type Ok = Value;
    type Error = DataError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.insert(Bytes::from(key.as_bytes()), value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.finish())
    }
}

/// A map key as Go's `map[string]...` holds it: strings, and numbers,
/// bools and chars as their text (as JSON writes them).
struct MapKey;

fn key_error() -> DataError {
    DataError("a map key that is not a string, number, bool or char".into())
}

impl ser::Serializer for MapKey {
    type Ok = Bytes;
    type Error = DataError;
    type SerializeSeq = ser::Impossible<Bytes, DataError>;
    type SerializeTuple = ser::Impossible<Bytes, DataError>;
    type SerializeTupleStruct = ser::Impossible<Bytes, DataError>;
    type SerializeTupleVariant = ser::Impossible<Bytes, DataError>;
    type SerializeMap = ser::Impossible<Bytes, DataError>;
    type SerializeStruct = ser::Impossible<Bytes, DataError>;
    type SerializeStructVariant = ser::Impossible<Bytes, DataError>;

    fn serialize_bool(self, v: bool) -> Result<Bytes> {
        Ok(v.to_string().as_bytes().into())
    }
    fn serialize_i8(self, v: i8) -> Result<Bytes> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<Bytes> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<Bytes> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<Bytes> {
        Ok(v.to_string().as_bytes().into())
    }
    fn serialize_i128(self, v: i128) -> Result<Bytes> {
        Ok(v.to_string().as_bytes().into())
    }
    fn serialize_u8(self, v: u8) -> Result<Bytes> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<Bytes> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<Bytes> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<Bytes> {
        Ok(v.to_string().as_bytes().into())
    }
    fn serialize_u128(self, v: u128) -> Result<Bytes> {
        Ok(v.to_string().as_bytes().into())
    }
    fn serialize_f32(self, _v: f32) -> Result<Bytes> {
        Err(key_error())
    }
    fn serialize_f64(self, _v: f64) -> Result<Bytes> {
        Err(key_error())
    }
    fn serialize_char(self, v: char) -> Result<Bytes> {
        Ok(v.to_string().as_bytes().into())
    }
    fn serialize_str(self, v: &str) -> Result<Bytes> {
        Ok(v.as_bytes().into())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Bytes> {
        Ok(v.into())
    }
    fn serialize_none(self) -> Result<Bytes> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Bytes> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Bytes> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Bytes> {
        Err(key_error())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Bytes> {
        Ok(variant.as_bytes().into())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Bytes> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Bytes> {
        Err(key_error())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(key_error())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(key_error())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(key_error())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(key_error())
    }
}
