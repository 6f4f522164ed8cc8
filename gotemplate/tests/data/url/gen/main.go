// Command gen writes gotemplate/tests/data/url/cases.rs: what sprig's
// urlParse and urlJoin answer, run as templates, for the inputs below.
//
//	cd gotemplate/tests/data/url/gen && go run . > ../cases.rs
//
// or scripts/regen-gotemplate-tables, which reruns every generator.
// urlParse's eight fields are joined by \x1f; an error is "E:" and its text
// without the input it quotes (the Rust port never echoes its input in an
// error, see withoutInput).
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/Masterminds/sprig/v3"
)

// What urlParse parses, one row each.
var parseInputs = []string{
	"",
	"*",
	"http://example.com",
	"https://user:pa%20ss@Example.com:8080/p/a%2Fb?q=1&r=%20#frag%20x",
	"HTTP://h/",
	"mailto:joe@example.com",
	"http://[::1]:80/x",
	"http://[fe80::1%25en0]:8080/",
	"http://[1.2.3.4]/",
	"http://[::1",
	"http://a[b]/",
	"http://h:port/",
	"http://h:80:90/",
	"ftp://h:80:90/",
	"/rel/path?x",
	"rel/path",
	"a:b/c",
	":foo",
	"1a:b",
	"//host/path",
	"///path",
	"http:///path",
	"http://u@h",
	"http://u:@h",
	"http://:p@h",
	"http://u%zz@h",
	"http://u p@h",
	"http://a@b@c/",
	"http://h/%zz",
	"http://h/a b",
	"http://h/?",
	"http://h/??",
	"http://h/a?b?",
	"http://h#",
	"http://h#a%zz",
	"http://h%41/",
	"http://h%2f/",
	"http://é.com/ü",
	"http://h/\x7f",
	"http://h/\t",
	"x?y#z",
	"http://h:/",
	"http://[::1]:/",
	"http://h/%2F%41",
	"?q",
	"#f",
	"http://h?a#b#c",
	"http://u:p:q@h/",
	"s://h/p;x,y=z",
	"http://[fe80::1%]/",
	"http://[::ffff:1.2.3.4]/",
	"http://h/path with space?q=a b#f g",
	"HtTp://X",
	"a+b-c.d://x",
	"http://h/~!$&'()*+,;=:@",
	"http://h/#!$&'()*+,;=:@/?",
}

// What urlJoin joins: the dict's (key, value) pairs, in the order the table
// shows them.
var joinInputs = [][][2]string{
	{{"scheme", "http"}, {"host", "h"}, {"path", "/p"}},
	{{"scheme", "http"}, {"host", "h"}, {"path", "p"}},
	{{"host", "h"}, {"path", "a b"}},
	{{"path", "a:b"}},
	{{"path", "a/b:c"}},
	{{"scheme", "mailto"}, {"opaque", "joe@x"}},
	{{"scheme", "http"}, {"host", "h"}, {"query", "a=1"}, {"fragment", "f g"}},
	{{"scheme", "http"}, {"host", "h"}, {"userinfo", "u:p@x"}},
	{{"scheme", "http"}, {"host", "h"}, {"userinfo", "u"}},
	{{"scheme", "http"}, {"host", "h"}, {"userinfo", "u/x"}},
	{{"scheme", "http"}, {"host", "h"}, {"userinfo", "u%zz"}},
	{{"scheme", "http"}, {"host", "h"}, {"userinfo", "u#x"}},
	{{"scheme", "http"}, {"host", "h é<>"}, {"path", "/ü?#"}},
	{{"path", "*"}},
	{},
	{{"scheme", "http"}},
	{{"scheme", "http"}, {"path", "/x"}},
	{{"fragment", "a#b!()"}},
	{{"userinfo", "a b"}},
	{{"host", "[::1]:80"}, {"path", "/"}},
	{{"scheme", "s"}, {"host", "h"}, {"path", "/%41"}},
	{{"query", ""}, {"path", "p"}},
	{{"scheme", "http"}, {"userinfo", "u:p"}, {"path", "/x"}},
}

// The fields of urlParse's dict, in the order of the table.
var fields = []string{"scheme", "host", "hostname", "path", "query", "opaque", "fragment", "userinfo"}

var (
	parseTmpl = template.Must(template.New("t").Funcs(sprig.GenericFuncMap()).Parse(
		`{{ $u := urlParse .X }}{{ $u.` + strings.Join(fields, ` }}`+"\x1f"+`{{ $u.`) + ` }}`))
	joinTmpl = template.Must(template.New("t").Funcs(sprig.GenericFuncMap()).Parse(`{{ urlJoin .D }}`))
)

func run(t *template.Template, data any) string {
	var out strings.Builder
	if err := t.Execute(&out, data); err != nil {
		return "E:" + withoutInput(funcError(err).Error())
	}
	return out.String()
}

// funcError is the error the template function returned (or its panic),
// without the template's "template: t:1:3: executing ... error calling f: ".
func funcError(err error) error {
	var ee template.ExecError
	if !errors.As(err, &ee) {
		panic(err)
	}
	inner := errors.Unwrap(ee.Err)
	if inner == nil {
		panic(err)
	}
	return inner
}

// withoutInput is the error text without the Go-quoted strings in it (the
// URL of a *url.Error, the escape or port net/url quotes), as the Rust port
// words it: `parse "http://h:port/": invalid port ":port" after host` is
// `parse: invalid port after host`.
func withoutInput(msg string) string {
	var b strings.Builder
	for {
		i := strings.Index(msg, ` "`)
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		q, err := strconv.QuotedPrefix(msg[i+1:])
		if err != nil {
			b.WriteString(msg[:i+2])
			msg = msg[i+2:]
			continue
		}
		b.WriteString(msg[:i])
		msg = msg[i+1+len(q):]
	}
}

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	goVersion := strings.Join(strings.Split(strings.TrimPrefix(runtime.Version(), "go"), ".")[:2], ".")
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintf(w, "// Expected urlParse/urlJoin results from Go %s (go %s main module) +\n",
		goVersion, mainGoVersion())
	fmt.Fprintf(w, "// sprig %s. urlParse fields are joined by \\x1f; `E:` is an error text.\n",
		moduleVersion(info, "github.com/Masterminds/sprig/v3"))
	fmt.Fprintf(w, "// Written by tests/data/url/gen (scripts/regen-gotemplate-tables); do not edit.\n")
	fmt.Fprintf(w, "const PARSE: &[(&str, &str)] = &[\n")
	for _, x := range parseInputs {
		fmt.Fprintf(w, "    (%s, %s),\n", rustStr(x), rustStr(run(parseTmpl, map[string]string{"X": x})))
	}
	fmt.Fprintf(w, "];\n\nconst JOIN: &[(&[(&str, &str)], &str)] = &[\n")
	for _, pairs := range joinInputs {
		d := map[string]any{}
		var items []string
		for _, p := range pairs {
			d[p[0]] = p[1]
			items = append(items, fmt.Sprintf("(%s, %s)", rustStr(p[0]), rustStr(p[1])))
		}
		fmt.Fprintf(w, "    (&[%s], %s),\n", strings.Join(items, ", "), rustStr(run(joinTmpl, map[string]any{"D": d})))
	}
	fmt.Fprintf(w, "];\n")
}

// mainGoVersion is the go line of this program's go.mod (read from the
// current directory, where `go run .` runs it), which sets the GODEBUG
// defaults net/url runs with.
func mainGoVersion() string {
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(mod), "\n") {
		if v, ok := strings.CutPrefix(line, "go "); ok {
			return strings.TrimSpace(v)
		}
	}
	panic("no go line in go.mod")
}

// moduleVersion is the version of module path this program was built with.
func moduleVersion(info *debug.BuildInfo, path string) string {
	for _, m := range info.Deps {
		if m.Path == path {
			return m.Version
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
