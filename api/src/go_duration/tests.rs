//! Every row was produced by Go 1.26's `time.ParseDuration` (the toolchain
//! that builds the reference v0.40.0): input, then nanoseconds or Go's error.

use super::*;

const GO: &[(&str, Result<i64, &str>)] = &[
    ("0", Ok(0)),
    ("+0", Ok(0)),
    ("-0", Ok(0)),
    ("", Err("time: invalid duration \"\"")),
    ("00", Err("time: missing unit in duration \"00\"")),
    ("1", Err("time: missing unit in duration \"1\"")),
    ("1h30m", Ok(5400000000000)),
    ("1.5h", Ok(5400000000000)),
    ("300ms", Ok(300000000)),
    ("-1h", Ok(-3600000000000)),
    ("1us", Ok(1000)),
    ("1µs", Ok(1000)),
    ("1μs", Ok(1000)),
    ("1ns", Ok(1)),
    ("2h45m30.5s", Ok(9930500000000)),
    (".5s", Ok(500000000)),
    ("5.s", Ok(5000000000)),
    (".s", Err("time: invalid duration \".s\"")),
    ("-.s", Err("time: invalid duration \"-.s\"")),
    (
        "1h 30m",
        Err("time: unknown unit \"h \" in duration \"1h 30m\""),
    ),
    (" 1h", Err("time: invalid duration \" 1h\"")),
    ("1H", Err("time: unknown unit \"H\" in duration \"1H\"")),
    ("1d", Err("time: unknown unit \"d\" in duration \"1d\"")),
    ("720h", Ok(2592000000000000)),
    ("87600h", Ok(315360000000000000)),
    ("2562047h47m16.854775807s", Ok(9223372036854775807)),
    (
        "2562047h47m16.854775808s",
        Err("time: invalid duration \"2562047h47m16.854775808s\""),
    ),
    ("-2562047h47m16.854775808s", Ok(-9223372036854775808)),
    ("9223372036854775807ns", Ok(9223372036854775807)),
    (
        "9223372036854775808ns",
        Err("time: invalid duration \"9223372036854775808ns\""),
    ),
    ("-9223372036854775808ns", Ok(-9223372036854775808)),
    ("0.000000001s", Ok(1)),
    ("0.0000000001s", Ok(0)),
    ("1.0000000000000000000000001s", Ok(1000000000)),
    ("3.000000001h", Ok(10800000003600)),
    ("+5m", Ok(300000000000)),
    ("--5m", Err("time: invalid duration \"--5m\"")),
    ("1m1m", Ok(120000000000)),
    ("1.5.5s", Err("time: missing unit in duration \"1.5.5s\"")),
    ("1e3s", Err("time: unknown unit \"e\" in duration \"1e3s\"")),
    ("0s", Ok(0)),
    ("-0s", Ok(0)),
    ("1s2", Err("time: missing unit in duration \"1s2\"")),
    (
        "10000000000000000000s",
        Err("time: invalid duration \"10000000000000000000s\""),
    ),
    (
        "100000000000h",
        Err("time: invalid duration \"100000000000h\""),
    ),
    ("0.1h", Ok(360000000000)),
    ("1.1ms", Ok(1100000)),
    (
        "1xé",
        Err("time: unknown unit \"x\\xc3\\xa9\" in duration \"1x\\xc3\\xa9\""),
    ),
    (
        "1\t",
        Err("time: unknown unit \"\\x09\" in duration \"1\\x09\""),
    ),
    (
        "1\"s",
        Err("time: unknown unit \"\\\"s\" in duration \"1\\\"s\""),
    ),
    (
        "1\\s",
        Err("time: unknown unit \"\\\\s\" in duration \"1\\\\s\""),
    ),
    (
        "1ñs",
        Err("time: unknown unit \"\\xc3\\xb1s\" in duration \"1\\xc3\\xb1s\""),
    ),
    ("µs", Err("time: invalid duration \"\\xc2\\xb5s\"")),
    ("1.5µs", Ok(1500)),
    (
        "5m-3s",
        Err("time: unknown unit \"m-\" in duration \"5m-3s\""),
    ),
    ("-", Err("time: invalid duration \"-\"")),
    ("+", Err("time: invalid duration \"+\"")),
    (".", Err("time: invalid duration \".\"")),
    ("1.", Err("time: missing unit in duration \"1.\"")),
    ("0.5", Err("time: missing unit in duration \"0.5\"")),
    (
        "184467440737095516160ns",
        Err("time: invalid duration \"184467440737095516160ns\""),
    ),
];

#[test]
fn agrees_with_go_on_every_row() {
    for (input, want) in GO {
        let got = parse(input).map(|d| d.0).map_err(|e| e.to_string());
        let want = want.map_err(str::to_string);
        assert_eq!(got, want, "input {input:?}");
    }
}

#[test]
fn negative_durations_have_no_std_length_and_mean_no_timeout() {
    let minus = parse("-1h").unwrap();
    assert_eq!(minus.to_std(), None);
    assert_eq!(minus.as_timeout(), None);
    assert_eq!(parse("0").unwrap().as_timeout(), None);
    assert_eq!(
        parse("2m").unwrap().as_timeout(),
        Some(std::time::Duration::from_secs(120))
    );
}
