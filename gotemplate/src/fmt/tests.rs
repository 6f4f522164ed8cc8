use super::*;
use crate::value::{Elem, GoMap, Heap, Value};

/// A map for the generated cases.
pub(super) fn map(h: &mut Heap, elem: Elem, entries: Vec<(&[u8], Value)>) -> Value {
    let entries = entries
        .into_iter()
        .map(|(k, v)| (crate::value::Bytes::from(k), v))
        .collect();
    h.alloc(GoMap { elem, entries })
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(&quote::quote(b)).into_owned()
}

#[test]
fn go_cases() {
    let mut h = Heap::default();
    let cases = super::tests_printf::cases(&mut h);
    let mut failures = Vec::new();
    for (kind, format, args, want) in &cases {
        let got = match kind {
            b'f' => sprintf(&h, format, args),
            b'p' => sprint(&h, args),
            _ => sprintln(&h, args),
        };
        if got != *want {
            failures.push(format!(
                "{} {}: got {} want {}",
                *kind as char,
                show(format),
                show(&got),
                show(want)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
