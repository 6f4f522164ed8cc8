//! Go semantics the template differential found: range variables in else,
//! named integer types (time.Month, time.Weekday, time.Duration), time and
//! duration methods, complex constants, fmt's struct printing, semver
//! v3.4.0, chunk's type and regexps on invalid UTF-8. Expected outputs come
//! from Go 1.26 with sprig v3.3.0 and semver v3.4.0 (TZ=UTC).

mod common;

use std::collections::BTreeMap;

use go_text_template::{Limits, Template};

fn render(text: &str) -> Result<String, String> {
    // Go names Local "UTC" when TZ is "UTC", as the reference runs; set it
    // before anything reads it (this test binary is its own process).
    static TZ: std::sync::Once = std::sync::Once::new();
    TZ.call_once(|| std::env::set_var("TZ", "UTC"));
    let data = BTreeMap::from([("bin".to_string(), b"\xff\xfe\x00A\x80".to_vec())]);
    let t = Template::new("out")
        .with_sprig()
        .value_free_errors(true)
        .parse(text)
        .map_err(|e| e.to_string())?;
    t.execute_strings(&data, &Limits::default())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| e.to_string())
}

#[test]
fn renders_as_go() {
    let cases: &[(&str, &str)] = &[
        (
            "{{ printf \"%d\" (semver \"1.2.3\") }}",
            "&{1 2 3 %!d(string=) %!d(string=) %!d(string=1.2.3)}",
        ),
        (
            "{{ printf \"%#v\" (semver \"1.2.3\") }}",
            "&semver.Version{major:0x1, minor:0x2, patch:0x3, pre:\"\", metadata:\"\", original:\"1.2.3\"}",
        ),
        (
            "{{ printf \"%#v\" (toDate \"2006-01-02\" \"2024-03-05\") }}",
            "time.Date(2024, time.March, 5, 0, 0, 0, 0, time.Local)",
        ),
        (
            "{{ $t := toDate \"2006-01-02\" \"2024-03-05\" }}{{ $t.Add 3600000000000 }}|{{ $t.AddDate 0 1 -5 }}|{{ $t.Month.String }}",
            "2024-03-05 01:00:00 +0000 UTC|2024-03-31 00:00:00 +0000 UTC|March",
        ),
        (
            "{{ $t := toDate \"2006-01-02 15:04\" \"2024-03-05 17:31\" }}{{ $t.Truncate 3600000000000 }}|{{ $t.Round 3600000000000 }}",
            "2024-03-05 17:00:00 +0000 UTC|2024-03-05 18:00:00 +0000 UTC",
        ),
        (
            "{{ $t := toDate \"2006-01-02\" \"2024-03-05\" }}{{ $t.UTC }}|{{ $t.Local }}|{{ $t.Location }}",
            "2024-03-05 00:00:00 +0000 UTC|2024-03-05 00:00:00 +0000 UTC|UTC",
        ),
        (
            "{{ printf \"%d %v %T\" (toDate \"2006-01-02\" \"2024-03-05\").Weekday (toDate \"2006-01-02\" \"2024-03-05\").Weekday (toDate \"2006-01-02\" \"2024-03-05\").Weekday }}",
            "2 Tuesday time.Weekday",
        ),
        (
            "{{ range $x := list }}a{{ else }}{{ $x }}{{ end }}",
            "[]",
        ),
        (
            "{{ typeOf (until 2) }} {{ typeOf (splitList \",\" \"a\") }} {{ typeOf (split \",\" \"a\") }} {{ typeOf (toStrings (list)) }} {{ typeOf (regexSplit \",\" \"a\" -1) }} {{ typeOf (regexFindAll \"a\" \"a\" -1) }} {{ typeOf (chunk 1 (list 1)) }} {{ typeOf (untilStep 0 1 1) }}",
            "[]int []string map[string]string []string []string []string [][]interface {} []int",
        ),
        (
            "[{{ toJson 1i }}]",
            "[]",
        ),
        (
            "{{ toJson (semver \"1.2.3\").Major }} {{ toJson (toDate \"2006\" \"2020\").Month }} {{ toJson ((toDate \"2006\" \"2020\").Sub (toDate \"2006\" \"2019\")) }}",
            "1 1 31536000000000000",
        ),
        (
            "{{ regexFindAll \".\" .bin -1 | join \"|\" | b64enc }}|{{ regexReplaceAll \".\" .bin \"x\" }}|{{ regexMatch \"^\\\\xff\" .bin }}|{{ regexFindAll \"\\\\x{FFFD}\" .bin -1 | len }}",
            "/3z+fAB8QXyA|xxxxx|false|3",
        ),
        (
            "{{ 1.5i }} {{ 1e2i }} {{ 0i }}",
            "(0+1.5i) (0+100i) (0+0i)",
        ),
        (
            "{{ range $x := until 0 }}a{{ else }}{{ printf \"%T\" $x }}{{ end }}",
            "[]int",
        ),
        (
            "{{ range $i, $x := list }}a{{ else }}[{{ $i }}][{{ $x }}]{{ end }}",
            "[[]][[]]",
        ),
        (
            "{{ range $x := 0 }}a{{ else }}{{ $x }}{{ end }}",
            "0",
        ),
        (
            "{{ range $x := dict }}a{{ else }}{{ $x }}{{ end }}",
            "map[]",
        ),
        (
            "{{ 1+2i }} {{ 1.5-0i }} {{ printf \"%T %v\" 0i 0i }} {{ typeOf 0i }} {{ typeOf 1.5-0i }}",
            "(1+2i) (1.5-0i) complex128 (0+0i) complex128 complex128",
        ),
        (
            "{{ $m := (toDate \"2006-01-02\" \"2024-03-05\").Month }}{{ printf \"%d|%x|%v|%s|%q|%#v|%T|%5d|%-9v|\" $m $m $m $m $m $m $m $m $m }}",
            "3|4d61726368|March|March|\"March\"|3|time.Month|    3|March    |",
        ),
        (
            "{{ $w := (toDate \"2006-01-02\" \"2024-03-05\").Weekday }}{{ printf \"%d|%v|%s|%#v|%x|%c\" $w $w $w $w $w $w }}",
            "2|Tuesday|Tuesday|2|54756573646179|\u{2}",
        ),
        (
            "{{ $d := (toDate \"2006-01-02\" \"2024-03-06\").Sub (toDate \"2006-01-02\" \"2024-03-05\") }}{{ printf \"%d|%v|%s|%#v|%x|%T|%q\" $d $d $d $d $d $d $d }}",
            "86400000000000|24h0m0s|24h0m0s|86400000000000|323468306d3073|time.Duration|\"24h0m0s\"",
        ),
        (
            "{{ $d := (toDate \"2006-01-02\" \"2024-03-06\").Sub (toDate \"2006-01-02\" \"2024-03-05\") }}{{ $d.Hours }} {{ $d.Minutes }} {{ $d.Seconds }} {{ $d.Milliseconds }} {{ $d.String }} {{ $d.Abs }}",
            "24 1440 86400 86400000 24h0m0s 24h0m0s",
        ),
        (
            "{{ $d := (toDate \"2006-01-02 15:04\" \"2024-03-06 10:31\").Sub (toDate \"2006-01-02\" \"2024-03-05\") }}{{ $d.Round 3600000000000 }} {{ $d.Truncate 3600000000000 }}",
            "35h0m0s 34h0m0s",
        ),
        (
            "{{ eq (toDate \"2006\" \"2020\").Month 1 }} {{ lt (toDate \"2006-01-02\" \"2024-03-05\").Weekday 5 }} {{ eq (semver \"1.2.3\").Major 1 }} {{ gt (semver \"1.2.3\").Minor -1 }}",
            "true true true true",
        ),
        (
            "{{ if (toDate \"2006-01-02\" \"2024-03-03\").Weekday }}y{{ else }}n{{ end }}",
            "n",
        ),
        (
            "{{ add 1 (toDate \"2006\" \"2020\").Month }} {{ add 1 (semver \"1.2.3\").Major }} {{ mul 2 (toDate \"2006-01-02\" \"2024-03-05\").Weekday }}",
            "2 2 4",
        ),
        (
            "{{ index (list 1 2 3) (semver \"1.2.3\").Major }} {{ index (list 1 2 3) (toDate \"2006\" \"2020\").Month }}",
            "2 2",
        ),
        (
            "{{ toJson (toDate \"2006-01-02\" \"2024-03-05\").Weekday }} {{ toJson (list (toDate \"2006\" \"2020\").Month) }} {{ toJson (dict \"v\" (semver \"1.2.3\").Minor) }}",
            "2 [1] {\"v\":2}",
        ),
        (
            "{{ $t := toDate \"2006-01-02\" \"2024-03-05\" }}{{ $t.Add -1 }}|{{ ($t.Add 1500000000).Format \"15:04:05.000\" }}|{{ $t.After ($t.Add 1) }}",
            "2024-03-04 23:59:59.999999999 +0000 UTC|00:00:01.500|false",
        ),
        (
            "{{ (toDate \"2006\" \"2020\").Location }}|{{ (toDate \"2006\" \"2020\").UTC.Location }}|{{ printf \"%v\" (toDate \"2006\" \"2020\").Location }}",
            "UTC|UTC|UTC",
        ),
        (
            "{{ printf \"%#v\" (toDate \"2006\" \"2020\").UTC }}",
            "time.Date(2020, time.January, 1, 0, 0, 0, 0, time.UTC)",
        ),
        (
            "{{ printf \"%#v\" (toDate \"2006-01-02 15:04:05.000\" \"2020-07-08 09:10:11.123\") }}",
            "time.Date(2020, time.July, 8, 9, 10, 11, 123000000, time.Local)",
        ),
        (
            "{{ printf \"%d\" (toDate \"2006\" \"2020\").UTC }}",
            "{0 63713433600 0}",
        ),
        (
            "{{ printf \"%d|%s\" (semver \"v1.2.3-rc.1+b\") (semver \"v1.2\") }}",
            "&{1 2 3 %!d(string=rc.1) %!d(string=b) %!d(string=v1.2.3-rc.1+b)}|1.2.0",
        ),
        (
            "{{ printf \"%T|%#v\" (chunk 2 (list 1 2 3)) (chunk 2 (list 1 2 3)) }}",
            "[][]interface {}|[][]interface {}{[]interface {}{1, 2}, []interface {}{3}}",
        ),
        (
            "{{ range $x := .missing }}a{{ else }}[{{ $x }}]{{ end }}",
            "[<no value>]",
        ),
        (
            "{{ range (toDate \"2006\" \"2020\").Month }}{{ . }},{{ printf \"%T\" . }};{{ end }}",
            "%!Month(0),time.Month;",
        ),
        (
            "{{ printf \"%+v|%v|%s|%t|%x\" (semver \"1.2.3\") (list (semver \"1.2.3\")) (list (toDate \"2006\" \"2020\")) (toDate \"2006\" \"2020\").UTC (toDate \"2006\" \"2020\").UTC }}",
            "1.2.3|[1.2.3]|[2020-01-01 00:00:00 +0000 UTC]|{%!t(uint64=0) %!t(int64=63713433600) %!t(*time.Location=<nil>)}|323032302d30312d30312030303a30303a3030202b3030303020555443",
        ),
        (
            "{{ printf \"%#v|%+d\" (list (toDate \"2006\" \"2020\").UTC) ((semver \"1.2.3\").IncMajor) }}",
            "[]interface {}{time.Date(2020, time.January, 1, 0, 0, 0, 0, time.UTC)}|{+2 +0 +0 %!d(string=) %!d(string=) %!d(string=2.0.0)}",
        ),
        (
            "{{ printf \"%t|%v\" (toDate \"2006\" \"2020\").Month (dict \"a\" (toDate \"2006\" \"2020\").Month) }}",
            "%!t(time.Month=1)|map[a:January]",
        ),
        (
            "{{ printf \"%d|%#v\" ((semver \"1.2.3\").Scan 5) ((semver \"1.2.3\").Scan 5) }}",
            "&{%!d(string=invalid semantic version)}|&errors.errorString{s:\"invalid semantic version\"}",
        ),
        (
            "{{ $d := (toDate \"2006\" \"2020\").Sub (toDate \"2006\" \"2019\") }}{{ printf \"%*d|\" (toDate \"2006\" \"2020\").Month 7 }}{{ $d.Microseconds }} {{ $d.Nanoseconds }} {{ ($d.Round 0) }} {{ $d.Truncate -5 }}",
            "7|31536000000000 31536000000000000 8760h0m0s 8760h0m0s",
        ),
        (
            "{{ $t := toDate \"2006-01-02 15:04:05\" \"0001-01-01 00:00:00\" }}{{ $t.Add -1 }}|{{ ($t.Add -1).Round 7000000000 }}|{{ ($t.Add -1500000000).Truncate 1000000000 }}|{{ $t.Round 1 }}",
            "0000-12-31 23:59:59.999999999 +0000 UTC|0001-01-01 00:00:00 +0000 UTC|0000-12-31 23:59:58 +0000 UTC|0001-01-01 00:00:00 +0000 UTC",
        ),
        (
            "{{ $t := toDate \"2006-01-02 15:04:05\" \"2024-03-05 17:31:29\" }}{{ $t.Round 7 }}|{{ $t.Round 86400000000000 }}|{{ $t.Truncate 604800000000000 }}|{{ $t.Round 1e9 }}",
            "2024-03-05 17:31:28.999999997 +0000 UTC|2024-03-06 00:00:00 +0000 UTC|2024-03-04 00:00:00 +0000 UTC|2024-03-05 17:31:29 +0000 UTC",
        ),
        (
            "{{ 010+1i }} {{ -0i }} {{ 1e-400i }}",
            "(10+1i) (0-0i) (0+0i)",
        ),
        (
            "{{ if 0i }}y{{ else }}n{{ end }}{{ if 1i }}y{{ end }}",
            "ny",
        ),
        (
            "{{ typeOf ((toDate \"2006\" \"2020\").Sub (toDate \"2006\" \"2019\")).Abs }} {{ kindOf (toDate \"2006\" \"2020\").Month }} {{ (toDate \"2006\" \"2020\").Month | int64 }} {{ float64 (toDate \"2006\" \"2020\").Weekday }}",
            "time.Duration int 1 3",
        ),
        (
            "{{ ne (toDate \"2006\" \"2020\").Month (toDate \"2006\" \"2020\").Weekday }} {{ eq (toDate \"2006\" \"2021\").Month (toDate \"2006\" \"2020\").Month }} {{ le 1 (toDate \"2006\" \"2020\").Month }}",
            "true true true",
        ),
        (
            "{{ slice (list 1 2 3) (toDate \"2006\" \"2020\").Month }}",
            "[2 3]",
        ),
        (
            "{{ printf \"%v %d\" (toDate \"2006\" \"2020\").Month.String (semver \"1.2.3\").IncMajor }}",
            "January {2 0 0 %!d(string=) %!d(string=) %!d(string=2.0.0)}",
        ),
    ];
    for (text, want) in cases {
        let got = render(text);
        if !common::left_out(&got) {
            assert_eq!(got.as_deref(), Ok(*want), "{text}");
        }
    }
}

#[test]
fn refuses_as_go() {
    let cases: &[(&str, &str)] = &[
        (
            "{{ 1e400 }}",
            "template: out:1: illegal number syntax: \"1e400\"",
        ),
        (
            "{{ 1.5i }} {{ 0x10i }}",
            "template: out:1: illegal number syntax: \"0x10i\"",
        ),
        (
            "{{ (semver \"1.2.3\").SetPrerelease \"bad..x\" }}",
            "template: out:1:19: executing \"out\" at <(semver \"1.2.3\").SetPrerelease>: error calling SetPrerelease: invalid prerelease string",
        ),
        (
            "{{ mustToJson 1i }}",
            "template: out:1:3: executing \"out\" at <mustToJson 1i>: error calling mustToJson: json: unsupported type: complex128",
        ),
        (
            "{{ 0b1i }}",
            "template: out:1: illegal number syntax: \"0b1i\"",
        ),
        (
            "{{ (semver \"1.2.3\").SetMetadata \"a..b\" }}",
            "template: out:1:19: executing \"out\" at <(semver \"1.2.3\").SetMetadata>: error calling SetMetadata: invalid metadata string",
        ),
        (
            "{{ (semver \"1.2.3\").SetPrerelease \".\" }}",
            "template: out:1:19: executing \"out\" at <(semver \"1.2.3\").SetPrerelease>: error calling SetPrerelease: invalid prerelease string",
        ),
        (
            "{{ 0x10+1i }}",
            "template: out:1: strconv.ParseFloat: parsing \"0x10\": invalid syntax",
        ),
        (
            "{{ 1e400+1i }}",
            "template: out:1: strconv.ParseFloat: parsing \"1e400\": value out of range",
        ),
        (
            "{{ 0b1+1i }}",
            "template: out:1: syntax error scanning complex number",
        ),
        (
            "{{ .bin.x.y }}",
            "template: out:1:7: executing \"out\" at <.bin.x.y>: can't evaluate field x in type string",
        ),
        (
            "{{ $t := toDate \"2006\" \"2020\" }}{{ $t.Month.Foo }}",
            "template: out:1:37: executing \"out\" at <$t.Month.Foo>: can't evaluate field Foo in type time.Month",
        ),
        (
            "{{ $t := semver \"1.2.3\" }}{{ $t.SetMetadata \"a..b\" }}",
            "template: out:1:31: executing \"out\" at <$t.SetMetadata>: error calling SetMetadata: invalid metadata string",
        ),
        (
            "{{ print 1 | mustToJson 1i }}",
            "template: out:1:13: executing \"out\" at <mustToJson>: wrong number of args for mustToJson: want 1 got 2",
        ),
        (
            "{{ \"a\" | mustToJson }}{{ 1i | mustToJson }}",
            "template: out:1:30: executing \"out\" at <mustToJson>: error calling mustToJson: json: unsupported type: complex128",
        ),
        (
            "{{ (semver \"1.2.3\").Major.x }}",
            "template: out:1:11: executing \"out\" at <\"1.2.3\">: can't evaluate field x in type uint64",
        ),
    ];
    for (text, want) in cases {
        let got = render(text);
        if !common::left_out(&got) {
            assert_eq!(got.err().as_deref(), Some(*want), "{text}");
        }
    }
}
