// Command gen writes gotemplate/tests/data/regex/cases.rs: what sprig's
// regex functions answer, run as templates, for the calls below.
//
//	cd gotemplate/tests/data/regex/gen && go run . > ../cases.rs
//
// or scripts/regen-gotemplate-tables, which reruns every generator. Each row
// is (function, arguments, result) with the result as the template prints
// it, or "E:" and the regexp/syntax error code (see errorCode).
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/Masterminds/sprig/v3"
)

// A call of a sprig function: its name and arguments (strings and ints).
type call struct {
	f    string
	args []any
}

// Each pattern: mustRegexFindAll over every input, then mustRegexMatch on
// inputs[2].
var patterns = []string{
	"a+", `\d+`, `\w+`, `\s`, `\bfoo\b`, "(?i)k",
	`(?i)\w`, "[[:alpha:]]+", `[^\d]`, `\Qa.b\E`, `\Qa.b`, "a{2}",
	"a{,2}", "a{2,}", "a{1001}", "(a{100}){11}", "(a{100}){10}", "a**",
	"a*?", "(?U)a*", "(?U)a*?", "x*", "", "^",
	"$", `(?m)^\w`, "(?m)$", "(?s).", ".", `\pL+`,
	`\p{Greek}+`, `\PL+`, `\p{^L}+`, `\p{Old_Italic}`, `\p{greek}`, `\p{Assigned}`,
	`\p{Cs}`, `\p{Cn}`, `\x41`, `\x{41}`, `\x{110000}`, `\101`,
	`\1`, `\8`, `\0`, `\C`, `\z`, `\Z`,
	`a\<`, `\<`, "(?x)a b", "(?i-i)a", "(?-)", "(?)a",
	"(?P<n>a)(?P<n>b)", "(?P<1a>x)", "(?<n>a)", "(?P=n)", "(", ")",
	"[a", "[]a]", "[^]a]", "[a-]", "[-a]", "[z-a]",
	`[\d-z]`, "[[:foo:]]", "[[:a]b:]]", "[[:^alpha:]]", "a|", "|b",
	"a||b", "(|a)", "*", "(*)", "a|*", "(?i)*",
	"a(?i)*", "^*", "$+", `\b+`, "a{0}", "a{0,}",
	`\`, `a\\`, `\é`, "é+", "(?i)é", "[é-ê]",
	`\xZZ`, `\x{}`, `\x{D800}`, `[\x{D7FF}-\x{E000}]`, `[^\x00-\x{10FFFF}]`, "a{1000}",
	"(a*)*", "(a|ab)(c|bcd)(d*)", "(?i)\u017f", "(?i)[k]", `\W`, `(?i)\W`,
	`[\W]`, `[\p{Lu}\d]`, `\pN`, `\p`, `\p{`, `\pé`,
	"(a)|b", "a{2}{3}", "a*{2}", "a{2}*", "a{", "a{1,2",
	"{", "a{01}", "a{1,02}", "a{99999999999}", `[a-\d]`, `\Q\E*`,
	"(?i:a)B", "(?i)(?-i:a)B", "(?s:.)", `\v`, `[\v]`, "[[:space:]]",
	`\s+`, "x?", "(?:)", "()", `\A`, `\B`,
}

var inputs = []string{
	"", "aaa ab a", "foo bar_baz 123 Foo\nK\u212a \u017fs",
	"αβγ abc ΑΒΓ é ê\u2028", "a\nb\n", "xaxbx",
	"abcd", "\v \t\f\r", `a.b a\.b`,
}

// Each split pattern and input: regexSplit with n from -1 to 3, regexFindAll
// with n 2, regexFind.
var splitPatterns = []string{
	"a", "", "x*", "b*", `\s`, ",",
	"(a)", "a*", "é?",
}

var splitInputs = []string{
	"", "a", "banana", "a,b,,c,", "xéx", "aaa",
	"  a  b ",
}

// (pattern, input, replacement): mustRegexReplaceAll, then
// regexReplaceAllLiteral.
var replacements = [][3]string{
	{"a(x*)b", "-ab-axxb-", "${1}W"},
	{"a(x*)b", "-ab-axxb-", "$1W"},
	{"a(x*)b", "-ab-axxb-", "$$1"},
	{"(?P<n>x+)", "axxb", "<$n>"},
	{"(?P<n>x+)", "axxb", "<${n}>"},
	{"(?P<n>x+)", "axxb", "<${n>"},
	{"(?P<n>x+)", "axxb", "$"},
	{"(x)", "x", "$2$1$01$10"},
	{"x*", "abc", "-"},
	{"a*", "baaac", "<$0>"},
	{"", "abc", "."},
	{"é*", "aéb", "-"},
	{"(?P<n>a)|(?P<n>b)", "ab", "[$n]"},
	{"(x)", "x", "$1é$1_"},
	{"(x)", "x", "${1}é"},
	{"(x)(y)?", "x", "[$2]"},
	{"b*", "abc", "X"},
	{"(a)", "a", "$999999999999"},
	{"(a)", "a", "${0}${00}"},
}

var quoteMetaInputs = []string{
	"", "a.b", `\.+*?()|[]{}^$`, "é-x",
}

// Every function with a pattern that does not compile.
var badPatternCalls = []call{
	{"regexFindAll", []any{"(", "a", 1}},
	{"regexFind", []any{"(", "a"}},
	{"regexReplaceAll", []any{"(", "a", "x"}},
	{"regexReplaceAllLiteral", []any{"(", "a", "x"}},
	{"regexSplit", []any{"(", "a", 1}},
	{"mustRegexSplit", []any{"(", "a", 1}},
	{"mustRegexFind", []any{"(", "a"}},
	{"regexMatch", []any{"(", "a"}},
	{"mustRegexReplaceAllLiteral", []any{"(", "a", "x"}},
}

func calls() []call {
	var cs []call
	for _, p := range patterns {
		for _, in := range inputs {
			cs = append(cs, call{"mustRegexFindAll", []any{p, in, -1}})
		}
		cs = append(cs, call{"mustRegexMatch", []any{p, inputs[2]}})
	}
	for _, p := range splitPatterns {
		for _, in := range splitInputs {
			for _, n := range []int{-1, 0, 1, 2, 3} {
				cs = append(cs, call{"regexSplit", []any{p, in, n}})
			}
			cs = append(cs, call{"regexFindAll", []any{p, in, 2}})
			cs = append(cs, call{"regexFind", []any{p, in}})
		}
	}
	for _, r := range replacements {
		cs = append(cs, call{"mustRegexReplaceAll", []any{r[0], r[1], r[2]}})
		cs = append(cs, call{"regexReplaceAllLiteral", []any{r[0], r[1], r[2]}})
	}
	for _, s := range quoteMetaInputs {
		cs = append(cs, call{"regexQuoteMeta", []any{s}})
	}
	return append(cs, badPatternCalls...)
}

// run executes {{ f .A0 .A1 ... }} and returns what the template prints.
func run(c call) string {
	text := "{{ " + c.f
	data := map[string]any{}
	for i, a := range c.args {
		text += fmt.Sprintf(" .A%d", i)
		data[fmt.Sprintf("A%d", i)] = a
	}
	t := template.Must(template.New("t").Funcs(sprig.GenericFuncMap()).Parse(text + " }}"))
	var out strings.Builder
	if err := t.Execute(&out, data); err != nil {
		return "E:" + errorCode(err)
	}
	return out.String()
}

// errorCode is the regexp/syntax error code in the error (mustRegex*) or the
// panic (regexp.MustCompile in regex*) of the call: "missing closing )" for
// "error parsing regexp: missing closing ): `(`", as the Rust port's
// error ends. Any other error is its whole text.
func errorCode(err error) string {
	var ee template.ExecError
	if !errors.As(err, &ee) || errors.Unwrap(ee.Err) == nil {
		panic(err)
	}
	msg := errors.Unwrap(ee.Err).Error()
	_, rest, ok := strings.Cut(msg, "error parsing regexp: ")
	if !ok {
		return msg
	}
	code, _, _ := strings.Cut(rest, ": `")
	return code
}

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	goVersion := strings.Join(strings.Split(strings.TrimPrefix(runtime.Version(), "go"), ".")[:2], ".")
	fmt.Fprintf(w, "// Expected results of the regex functions, from Go %s + sprig %s\n",
		goVersion, moduleVersion("github.com/Masterminds/sprig/v3"))
	fmt.Fprintf(w, "// (generated by running the templates through Go). `E:` is an error code.\n")
	fmt.Fprintf(w, "// Written by tests/data/regex/gen (scripts/regen-gotemplate-tables); do not edit.\n")
	fmt.Fprintf(w, "\npub(super) const CASES: &[(&str, &[A], &str)] = &[\n")
	for _, c := range calls() {
		var args []string
		for _, a := range c.args {
			switch a := a.(type) {
			case string:
				args = append(args, "T("+rustStr(a)+")")
			case int:
				args = append(args, fmt.Sprintf("I(%d)", a))
			default:
				panic(fmt.Sprintf("argument %T", a))
			}
		}
		fmt.Fprintf(w, "    (%s, &[%s], %s),\n", rustStr(c.f), strings.Join(args, ", "), rustStr(run(c)))
	}
	fmt.Fprintf(w, "];\n")
}

// moduleVersion is the version of module path this program was built with.
func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if ok {
		for _, m := range info.Deps {
			if m.Path == path {
				return m.Version
			}
		}
	}
	panic("no module " + path)
}

// rustStr is s as a Rust string literal: printable ASCII as is, everything
// else as \u{...}.
func rustStr(s string) string {
	if !utf8.ValidString(s) {
		panic(fmt.Sprintf("invalid UTF-8 in %q", s))
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, `\u{%x}`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
