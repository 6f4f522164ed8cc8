//! Every row of `tests/data/go_base64/cases.tsv` was produced by Go's
//! `base64.StdEncoding.DecodeString` (regenerate: see the README there).

use super::*;

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn matches_go_on_every_case() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/go_base64/cases.tsv"
    );
    let table = std::fs::read_to_string(path).expect("read cases.tsv");
    let (mut rows, mut oks, mut errs, mut strs) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for (lineno, line) in table.lines().enumerate() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 3, "line {}: {line:?}", lineno + 1);
        let input = unhex(fields[0]);
        let want: Result<Vec<u8>, usize> = match fields[1] {
            "ok" => {
                oks += 1;
                Ok(unhex(fields[2]))
            }
            "err" => {
                errs += 1;
                Err(fields[2].parse().expect("offset"))
            }
            other => panic!("line {}: bad kind {other:?}", lineno + 1),
        };
        rows += 1;
        let got = decode_bytes(&input);
        if got != want {
            failures.push(format!(
                "line {}: input {:?}: got {got:?}, Go {want:?}",
                lineno + 1,
                String::from_utf8_lossy(&input)
            ));
        }
        // The public entry point, wherever the input is a Rust string.
        if let Ok(s) = std::str::from_utf8(&input) {
            strs += 1;
            assert_eq!(decode_std(s), got, "line {}", lineno + 1);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {rows} rows differ from Go:\n{}",
        failures.len(),
        failures[..failures.len().min(30)].join("\n")
    );
    // Guard against a truncated or empty table.
    assert!(rows > 10_000 && oks > 1_000 && errs > 1_000 && strs > 10_000);
}

#[test]
fn go_offset_quirks() {
    // Input ends mid-quantum: si - j, not the quantum's start when newlines
    // were skipped: the '\n' in the first two, 'B' in the third.
    assert_eq!(decode_std("A\nB"), Err(1));
    assert_eq!(decode_std("A\n\n\nBC"), Err(3));
    assert_eq!(decode_std("AB\n"), Err(1));
    // `xx=` then not '=': the byte before it, not the offending byte.
    assert_eq!(decode_std("AB=C"), Err(2));
    assert_eq!(decode_std("AB=\nC"), Err(3));
    // `xx=` then end (newlines skipped): the input length.
    assert_eq!(decode_std("AB=\n\n"), Err(5));
    // Trailing garbage after padding: the garbage.
    assert_eq!(decode_std("AA==\nAAAA"), Err(5));
    // Non-strict: nonzero trailing bits are accepted.
    assert_eq!(decode_std("QR=="), Ok(b"A".to_vec()));
    assert_eq!(decode_std("Zm9v\r\nYmFy\n"), Ok(b"foobar".to_vec()));
    assert_eq!(decode_std("AA=\r\n=\n"), Ok(vec![0]));
}
