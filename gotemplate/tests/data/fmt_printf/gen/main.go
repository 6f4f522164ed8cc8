// Command gen writes gotemplate/tests/data/fmt_printf/cases.rs: what Go's
// fmt.Sprintf, fmt.Sprint and fmt.Sprintln make of the cases below, each
// with its operands written as the gotemplate Values that stand for the
// same Go values (src/fmt/tests.rs runs them through the Rust port).
//
//	cd gotemplate/tests/data/fmt_printf/gen && go run . > ../cases.rs
//
// or scripts/regen-gotemplate-tables, which reruns every generator.
package main

import (
	"bufio"
	"fmt"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
)

// A case: 'f' fmt.Sprintf(format, args...), 'p' fmt.Sprint(args...), 'l'
// fmt.Sprintln(args...).
type tc struct {
	kind   byte
	format string
	args   []any
}

var negZero = math.Copysign(0, -1)

// Values used again and again.
var (
	mixed  = []any{1, "a", nil, 2.5, true, []any{int64(3), "b"}}
	nested = map[string]any{"a": "x", "b": 2, "c": nil, "d": []any{1, 2}, "e": map[string]any{"z": 1.5}}
	strMap = map[string]string{"": "empty", "k1": "v1", "k2": "v2"}
	bytes4 = []byte{1, 2, 255, 97}
)

// Sprint and Sprintln cases.
var prints = []tc{
	{'p', "", []any{}},
	{'p', "", []any{1}},
	{'p', "", []any{1, 2}},
	{'p', "", []any{"a", 1, 2, "b", "c"}},
	{'p', "", []any{nil, nil}},
	{'p', "", []any{1, nil, "x", nil}},
	{'p', "", []any{int64(-7), int32(65), uint8(200), uint32(4000000000), uint64(18446744073709551615)}},
	{'p', "", []any{1e+21, 1e+20, 123456789.0, 1000000.0, 100000.0, 0.0001, 1e-05, 1.5e-05, negZero, math.Inf(1), math.Inf(-1), math.NaN(), 0.1, 0.3333333333333333, 5e-324, 1.7976931348623157e+308, 100.0}},
	{'p', "", []any{true, false}},
	{'p', "", []any{mixed}},
	{'p', "", []any{nested}},
	{'p', "", []any{strMap}},
	{'p', "", []any{bytes4}},
	{'p', "", []any{[]string{"a", "b c"}}},
	{'p', "", []any{[]int{1, -2}}},
	{'p', "", []any{[]any{}}},
	{'p', "", []any{map[string]any{}}},
	{'p', "", []any{[]any{[]any{}, map[string]any{}}}},
	{'p', "", []any{"\xff\x00"}},
	{'l', "", []any{}},
	{'l', "", []any{1, "a", "b", nil, 2.5}},
	{'l', "", []any{mixed, nested}},
}

// Every verb (with flags) applied to every value: the matrix.
var matrixVerbs = []string{
	"%v", "%+v", "%#v", "%T", "%t", "%d", "%b", "%o",
	"%O", "%x", "%X", "%c", "%q", "%U", "%#U", "%e",
	"%E", "%f", "%F", "%g", "%G", "%s", "%5v", "%-5v|",
	"%05v", "%.2v", "%+d", "% d", "%#x", "%#o", "%x", "% x",
	"%# x", "%#X", "%+q", "%#q", "%8.3f", "%w", "%z", "%!",
	"%é",
}

var matrixValues = []any{
	0,
	42,
	-42,
	int64(-9223372036854775808),
	int32(128512),
	uint8(7),
	uint32(255),
	uint64(18446744073709551615),
	1.0,
	-2.5,
	1e-07,
	123456.789,
	negZero,
	math.Inf(1),
	math.NaN(),
	true,
	"héllo\n",
	"",
	"\xff",
	nil,
	mixed,
	nested,
	strMap,
	bytes4,
	[]string{"x", "y"},
}

// Flags, widths, precisions, argument indexes, wrong and missing operands.
var specials = []tc{
	{'f', "%5d|%-5d|%05d|%+05d|% 05d", []any{42, 42, 42, 42, 42}},
	{'f', "%.3d|%.0d|%5.0d|%8.3d|%-8.3d|%08.3d", []any{7, 0, 0, -7, 7, 7}},
	{'f', "%x %X %#x %#X %o %#o %O %b %#b", []any{255, 255, 255, 255, 8, 8, 8, 5, 5}},
	{'f', "%x %#x %X", []any{-255, -255, int64(-1)}},
	{'f', "%c%c%c%c%c", []any{int32(65), 128512, -1, 55296, 1114112}},
	{'f', "%q %q %q %q %+q %q %q", []any{int32(97), int32(39), int32(10), 128512, 128512, -1, 127}},
	{'f', "%U %#U %#U %#U %.6U %#10U| %-8U|", []any{65, 65, 128512, 7, 65, int32(120), 65}},
	{'f', "%U", []any{-1}},
	{'f', "%d %d %d", []any{uint8(255), int32(-5), uint32(7)}},
	{'f', "%08b|%-08d|%+x|% x", []any{5, 5, 255, 255}},
	{'f', "%e %E %f %g %G %v", []any{1234.5678, 1234.5678, 1234.5678, 1234.5678, 1234.5678, 1234.5678}},
	{'f', "%.0f %.1f %.2f %.3f %.10f", []any{2.5, 0.25, 0.125, 1.0005, 0.3333333333333333}},
	{'f', "%.0e %.3e %.20e %.0g %.1g %.3g %.10g %.30g", []any{1.5, 123456.0, 0.1, 123.0, 0.0001234, 1.0, 0.3333333333333333, 0.1}},
	{'f', "%g %g %g %g %g %g", []any{0.0001, 1e-05, 100000.0, 1000000.0, 1e+21, 123456789.0}},
	{'f', "%#g %#g %#g %#.3g %#e %#.0f %#.0e %#v", []any{1.0, 123456.0, 1e-07, 2.0, 1.0, 3.0, 3.0, 1.0}},
	{'f', "%8.2f|%-8.2f|%08.2f|%+08.2f|% 8.2f|%+.1e|% .1e", []any{3.14159, 3.14159, -3.14159, 3.14159, 3.14159, 3.14159, 3.14159}},
	{'f', "%5f|%-5f|%05f|%+f|% f|%5.1f", []any{math.Inf(1), math.Inf(-1), math.NaN(), math.NaN(), math.NaN(), math.Inf(1)}},
	{'f', "%010f|%+010f|%-010f|%010v", []any{math.Inf(1), math.NaN(), math.Inf(-1), math.NaN()}},
	{'f', "%x %X %.2x %#x %.0x %x %x %x", []any{1.0, 1.5, 3.14159, 1.0, 1.5, 0.0, 5e-324, -1.7976931348623157e+308}},
	{'f', "%b %b %b", []any{1.0, 0.0, -5e-324}},
	{'f', "%.3v %10.4v %-10.3g| %G %E", []any{3.141592653589793, 3.141592653589793, 1e-10, 1e-10, 1e+100}},
	{'f', "%f %e %g %.1f", []any{negZero, negZero, negZero, -0.04}},
	{'f', "%.5f %.17g %.25f", []any{1e-10, 0.1, 1e+22}},
	{'f', "%v %v %v", []any{1000000000000000.0, 1e+16, 1.2345678901234567e+19}},
	{'f', "%s|%10s|%-10s|%.2s|%5.1s|%05s", []any{"hello", "hello", "hello", "héllo", "héllo", "ab"}},
	{'f', "%x|%X|% x|%#x|%# x|%# X|%.2x|%10x|%-10x|%010x", []any{"hi!", "hi!", "hi!", "hi!", "hi!", "hi!", "hi!", "hi", "hi", "hi"}},
	{'f', "%x|%5x|% x", []any{"", "", ""}},
	{'f', "%q|%+q|%#q|%#q|%#+q|%.3q|%10q", []any{"héllo\t\"", "héllo\x00", "back`tick", "plain", "é", "abcdef", "a"}},
	{'f', "%q", []any{"\x07\x08\x0c\n\x0d\t\x0b\\\x00\x7f\xc3\xfe\xc2\xad😀\xe2\x80\x8b\xef\xbb\xbf\xf3\xa0\x80\x81"}},
	{'f', "%+q", []any{"😀é\xff"}},
	{'f', "%#q", []any{"\xef\xbb\xbf"}},
	{'f', "%#q", []any{"tab\there"}},
	{'f', "%#q", []any{"nl\nhere"}},
	{'f', "%s %v %d", []any{bytes4, bytes4, bytes4}},
	{'f', "%x %X % x %#x %q %s", []any{bytes4, bytes4, bytes4, bytes4, bytes4, []byte{104, 105}}},
	{'f', "%#v %o %t", []any{bytes4, bytes4, bytes4}},
	{'f', "%v %#v", []any{[]any{[]byte{1, 2, 255, 97}}, []any{[]byte{1, 2, 255, 97}}}},
	{'f', "%s %x %q", []any{[]any{[]byte{1, 2, 255, 97}}, []any{[]byte{1, 2, 255, 97}}, []any{[]byte{1, 2, 255, 97}}}},
	{'f', "%c %5.1c|", []any{int32(120), int32(233)}},
	{'f', "%d %s %x %q", []any{mixed, mixed, mixed, mixed}},
	{'f', "%5d|%-4v|%03d", []any{[]any{1, 2}, []any{"a", nil}, []int{1, 2}}},
	{'f', "%d %s %x %#v %+v", []any{nested, nested, nested, nested, nested}},
	{'f', "%v %#v %s %q %x", []any{strMap, strMap, strMap, strMap, strMap}},
	{'f', "%#v %#v %#v %#v", []any{[]string{"a"}, []int{}, []any{nil}, map[string]string{}}},
	{'f', "%#v %#v %#v %#v %#v %#v", []any{1, int64(2), int32(3), uint8(4), uint32(5), uint64(6)}},
	{'f', "%#v %#v %#v %#v %#v", []any{1.0, 1e+21, 1e-07, "s\"", true}},
	{'f', "%#v", []any{[]any{1, "a", 2.5, nil, []any{}, map[string]any{"k": []string{"v"}}}}},
	{'f', "%T %T %T %T %T %T %T", []any{mixed, nested, strMap, bytes4, []string{}, nil, 1.5}},
	{'f', "%10T|%-10T|%.3T", []any{1, "s", 1.5}},
	{'f', "%d", []any{"hi"}},
	{'f', "%s", []any{5}},
	{'f', "%t", []any{1}},
	{'f', "%d", []any{nil}},
	{'f', "%s", []any{nil}},
	{'f', "%x", []any{nil}},
	{'f', "%v %T", []any{nil, nil}},
	{'f', "%d", []any{}},
	{'f', "%d %d", []any{1}},
	{'f', "%s", []any{"a", 1, "x"}},
	{'f', "", []any{1}},
	{'f', "x", []any{nil, 1}},
	{'f', "%!d", []any{}},
	{'f', "%", []any{}},
	{'f', "%-", []any{}},
	{'f', "%5", []any{}},
	{'f', "%.", []any{1}},
	{'f', "%.2", []any{1}},
	{'f', "abc%", []any{}},
	{'f', "%*d", []any{5, 42}},
	{'f', "%-*d|", []any{5, 42}},
	{'f', "%*d|", []any{-5, 42}},
	{'f', "%.*f", []any{2, 3.14159}},
	{'f', "%*.*f|", []any{8, 2, 3.14159}},
	{'f', "%*d", []any{"x", 42}},
	{'f', "%*d", []any{10000000, 42}},
	{'f', "%.*d", []any{-1, 42}},
	{'f', "%.*d", []any{"x", 42}},
	{'f', "%.*d", []any{10000000, 4}},
	{'f', "%*d", []any{uint8(3), 1}},
	{'f', "%*d", []any{int64(3), 1}},
	{'f', "%*d", []any{1.5, 1}},
	{'f', "%*d", []any{nil, 1}},
	{'f', "%*d", []any{}},
	{'f', "%.*d", []any{}},
	{'f', "%[2]d %[1]d", []any{1, 2}},
	{'f', "%[3]d", []any{1, 2}},
	{'f', "%[0]d", []any{1}},
	{'f', "%[x]d", []any{1}},
	{'f', "%[1]d %d %d", []any{1, 2}},
	{'f', "%[2]*[1]d", []any{12, 5}},
	{'f', "%[1]*d", []any{3, 4}},
	{'f', "%[5]*d", []any{3, 4}},
	{'f', "%.[2]d", []any{1, 2}},
	{'f', "%[1]2d", []any{1}},
	{'f', "%[1].2d", []any{1}},
	{'f', "%[2]", []any{1, 2}},
	{'f', "%[", []any{1}},
	{'f', "%[]d", []any{1}},
	{'f', "%[1", []any{1}},
	{'f', "%d %[1]d %d", []any{1, 2}},
	{'f', "%[-1]d", []any{1}},
	{'f', "%[1]d %[1]d", []any{7}},
	{'f', "%[2]d %[2]d", []any{7, 8}},
	{'f', "%%|%5%|%-5%|%.2%|%[3]%", []any{1}},
	{'f', "%5t|%-7t|%q", []any{true, false, true}},
	{'f', "%5t", []any{1}},
	{'f', "%-6d", []any{"ab"}},
	{'f', "%#d", []any{"ab"}},
	{'f', "%+d", []any{"é"}},
	{'f', "%v %d", []any{int32(-1), uint8(0)}},
	{'f', "%c|%q|%U", []any{uint64(18446744073709551615), uint64(18446744073709551615), uint64(18446744073709551615)}},
	{'f', "%s", []any{"\xff\xfe"}},
	{'f', "%5s|", []any{"\xff\xfe"}},
	{'f', "%.1s|", []any{"\xff\xfe"}},
	{'f', "%d \xff %\xff", []any{1, 2}},
	{'f', "%w", []any{[]any{1, nil}}},
	{'f', "%w", []any{map[string]any{"a": 1}}},
	{'f', "%w", []any{bytes4}},
	{'f', "%#w", []any{"s"}},
	{'f', "%v", []any{[]any{1}}},
	{'f', "%99d|", []any{1}},
	{'f', "%.50d|", []any{-1}},
	{'f', "%-099d|", []any{3}},
	{'f', "%0-9d|", []any{3}},
	{'f', "%+.3e|", []any{0.0}},
	{'f', "%12345678d|", []any{1}},
	{'p', "", []any{74772350047323.12, 1198005428363891.2, -147046091355186.62}},
	{'f', "%v %g %e %.3f", []any{74772350047323.12, 2.5e-310, 1.7976931348623157e+308, 1e-320}},
	{'f', "%.400f %.400e", []any{0.3333333333333333, 5e-324}},
}

func cases() []tc {
	cs := slices.Clone(prints)
	for _, v := range matrixValues {
		for _, verb := range matrixVerbs {
			cs = append(cs, tc{'f', verb, []any{v}})
		}
	}
	return append(cs, specials...)
}

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	goVersion := strings.Join(strings.Split(strings.TrimPrefix(runtime.Version(), "go"), ".")[:2], ".")
	fmt.Fprintf(w, "// Generated by a Go %s program from fmt.Sprintf/Sprint/Sprintln of the\n", goVersion)
	fmt.Fprintf(w, "// same Go values: (function, format, operands, Go's output).\n")
	fmt.Fprintf(w, "// Written by tests/data/fmt_printf/gen (scripts/regen-gotemplate-tables); do not edit.\n")
	fmt.Fprintf(w, "\n/// `f` Sprintf, `p` Sprint, `l` Sprintln; the format; the operands; Go's output.\n")
	fmt.Fprintf(w, "pub(super) type Case = (u8, &'static [u8], Vec<Value>, &'static [u8]);\n")
	fmt.Fprintf(w, "\n#[rustfmt::skip]\npub(super) fn cases(h: &mut Heap) -> Vec<Case> {\n    vec![\n")
	for _, c := range cases() {
		var out string
		switch c.kind {
		case 'f':
			out = fmt.Sprintf(c.format, c.args...)
		case 'p':
			out = fmt.Sprint(c.args...)
		case 'l':
			out = fmt.Sprintln(c.args...)
		default:
			panic("kind " + string(c.kind))
		}
		var args []string
		for _, a := range c.args {
			args = append(args, value(a))
		}
		fmt.Fprintf(w, "        (b'%c', %s, vec![%s], %s),\n", c.kind, byteStr(c.format), strings.Join(args, ", "), byteStr(out))
	}
	fmt.Fprintf(w, "    ]\n}\n")
}

// value is v as a Rust expression building the gotemplate Value that stands
// for it (maps go through the test's map(h, elem, entries)).
func value(v any) string {
	switch v := v.(type) {
	case nil:
		return "Value::Nil"
	case int:
		return fmt.Sprintf("Value::Int(%d)", v)
	case int64:
		return fmt.Sprintf("Value::Int64(%d)", v)
	case int32:
		return fmt.Sprintf("Value::Int32(%d)", v)
	case uint8:
		return fmt.Sprintf("Value::Uint8(%d)", v)
	case uint32:
		return fmt.Sprintf("Value::Uint32(%d)", v)
	case uint64:
		return fmt.Sprintf("Value::Uint64(%d)", v)
	case float64:
		return fmt.Sprintf("Value::Float64(f64::from_bits(%#x))", math.Float64bits(v))
	case bool:
		return fmt.Sprintf("Value::Bool(%t)", v)
	case string:
		return "Value::bytes(" + byteStr(v) + ")"
	case []any:
		return list("Any", v)
	case []byte:
		return list("Uint8", v)
	case []string:
		return list("String", v)
	case []int:
		return list("Int", v)
	case map[string]any:
		return goMap("Any", v)
	case map[string]string:
		return goMap("String", v)
	}
	panic(fmt.Sprintf("no Value for %T", v))
}

func list[E any](elem string, items []E) string {
	var vs []string
	for _, it := range items {
		vs = append(vs, value(it))
	}
	return fmt.Sprintf("Value::list(Elem::%s, vec![%s])", elem, strings.Join(vs, ", "))
}

// goMap is a block that builds the map with the entries in key order.
func goMap[E any](elem string, m map[string]E) string {
	var es []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		es = append(es, fmt.Sprintf("(&%s[..], %s)", byteStr(k), value(m[k])))
	}
	return fmt.Sprintf("{ let e: Vec<(&[u8], Value)> = vec![%s]; map(h, Elem::%s, e) }", strings.Join(es, ", "), elem)
}

// byteStr is s as a Rust byte string literal: printable ASCII as is,
// every other byte as \xNN.
func byteStr(s string) string {
	var b strings.Builder
	b.WriteString(`b"`)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
