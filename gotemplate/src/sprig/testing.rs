//! Calling functions directly in unit tests.

use crate::funcs::FuncError;
use crate::value::{Heap, Value};

/// Calls sprig function `name` with arguments already of its parameter types.
pub fn call(name: &str, args: &[Value]) -> Result<Value, FuncError> {
    let mut heap = Heap::default();
    call_in(&mut heap, name, args)
}

pub fn call_in(heap: &mut Heap, name: &str, args: &[Value]) -> Result<Value, FuncError> {
    let funcs = crate::sprig::functions();
    let f = funcs
        .get(name)
        .unwrap_or_else(|| panic!("no function {name}"));
    f.call(heap, args)
}

pub fn s(text: &str) -> Value {
    Value::str(text)
}

/// Table-driven checks against results taken from Go (sprig v3.3.0, Go 1.26).
pub mod check {
    use crate::funcs::FuncError;
    use crate::sprig::testing::call;
    use crate::value::Value;

    pub type Want = Result<&'static [u8], &'static str>;

    pub fn b(bytes: &[u8]) -> Value {
        Value::bytes(bytes)
    }
    pub fn i(n: i64) -> Value {
        Value::Int(n)
    }
    pub fn ok(bytes: &'static [u8]) -> Want {
        Ok(bytes)
    }
    pub fn err(reason: &'static str) -> Want {
        Err(reason)
    }

    /// Calls each function; string and bool results compare as Go prints them.
    pub fn run(cases: Vec<(&str, Vec<Value>, Want)>) {
        for (name, args, want) in cases {
            let got = match call(name, &args) {
                Ok(Value::String(s)) => Ok(s.to_vec()),
                Ok(Value::Bool(x)) => Ok(x.to_string().into_bytes()),
                Ok(other) => panic!("{name}: unexpected result {other:?}"),
                Err(FuncError::Reason(r)) => Err(r.into_owned()),
                Err(e) => panic!("{name}: unexpected error {e:?}"),
            };
            let want = want.map(<[u8]>::to_vec).map_err(str::to_owned);
            assert_eq!(got, want, "{name} {args:?}");
        }
    }
}
