// Command conformance renders templates with Go's text/template and sprig
// v3.3.0 (semver v3.4.0) as the reference Sealed Secrets controller does:
// template.New(name).Funcs(sprig's GenericFuncMap less env, expandenv and
// getHostByName).Parse(text), then Execute. gotemplate/tests/conformance/main.rs
// builds it and sends it the corpus, and renders each record itself too.
//
//	conformance funcs          the function map's names, as a JSON array
//	conformance run [-bench-ms N]
//
// run reads one JSON record a line on stdin and answers each with one JSON
// result line (flushed, so the caller may interleave its own timing):
//
//	{"name": "out", "template": "{{ .a }}",
//	 "strings": {"a": "<base64>"},   dot as map[string]string (bytes, base64)
//	 "json": {...},                  or dot as encoding/json decodes it
//	 "serde": {...},                 or dot as the Rust crate maps serde data
//	 "options": {"missingkey": "zero", "delims": ["[[", "]]"],
//	             "option": ["missingkey=error"],   more Option texts, in order
//	             "no_sprig": true,   Go's builtins only (no sprig map)
//	             "undefined": ["genCA"]},   names left out of the map
//	 "more": [{"name": "x", "delims": ["<<", ">>"], "template": "..."}],
//	                                 parsed after, in order: t.New(name) (t
//	                                 itself without a name), its own Delims
//	 "execute": "x"}                 ExecuteTemplate(x), else Execute
//	-> {"output": "<base64>", "error": "template: ..." | null,
//	    "ns_per_render": 1234.5}     with -bench-ms only
//
// On an error the output is what Execute had written (Go writes as it goes).
//
// serde: the Rust crate's data from serde_json::Value (its README, "Render a
// template") makes a JSON number written as an integer Go's int, or uint64
// above int64's range, and every other number float64; serde_json writes
// every float with a '.' or an exponent (1.0, 1e21, -0.0). So the number's
// text decides: no '.', 'e' or 'E' and it fits int64: int; fits uint64:
// uint64; else float64 (the same rule as serde_json's parser).
// With -bench-ms N each record is also timed: parse and execute, repeated
// for about N ms a sample, five samples (one for a render slower than
// 100 ms), the median in ns per render.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
)

type options struct {
	MissingKey string   `json:"missingkey"`
	Option     []string `json:"option"`
	Delims     []string `json:"delims"`
	NoSprig    bool     `json:"no_sprig"`
	Undefined  []string `json:"undefined"`
}

// A text parsed after the record's own.
type more struct {
	Name     *string  `json:"name"`
	Delims   []string `json:"delims"`
	Template string   `json:"template"`
}

type record struct {
	Name     string            `json:"name"`
	Template string            `json:"template"`
	Strings  map[string][]byte `json:"strings"`
	JSON     json.RawMessage   `json:"json"`
	Serde    json.RawMessage   `json:"serde"`
	Options  options           `json:"options"`
	More     []more            `json:"more"`
	Execute  *string           `json:"execute"`
}

type result struct {
	Output      []byte  `json:"output"`
	Error       *string `json:"error"`
	NsPerRender float64 `json:"ns_per_render,omitempty"`
}

// The reference's map: sealedsecret_expansion.go deletes these three.
func referenceFuncs() template.FuncMap {
	m := sprig.GenericFuncMap()
	delete(m, "env")
	delete(m, "expandenv")
	delete(m, "getHostByName")
	return m
}

func funcsWithout(all template.FuncMap, undefined []string) template.FuncMap {
	if len(undefined) == 0 {
		return all
	}
	m := template.FuncMap{}
	for k, v := range all {
		m[k] = v
	}
	for _, name := range undefined {
		delete(m, name)
	}
	return m
}

func render(r *record, funcs template.FuncMap, dot any) (out []byte, err error) {
	var buf bytes.Buffer
	defer func() {
		// text/template recovers a function's panic itself; this keeps the
		// runner alive should anything else panic.
		if p := recover(); p != nil {
			out, err = buf.Bytes(), fmt.Errorf("go panicked: %v", p)
		}
	}()
	t := template.New(r.Name)
	if funcs != nil {
		t = t.Funcs(funcs)
	}
	if len(r.Options.Delims) == 2 {
		t = t.Delims(r.Options.Delims[0], r.Options.Delims[1])
	}
	opts := r.Options.Option
	if r.Options.MissingKey != "" {
		opts = append([]string{"missingkey=" + r.Options.MissingKey}, opts...)
	}
	for _, o := range opts {
		if err = option(t, o); err != nil {
			return nil, err
		}
	}
	if _, err = t.Parse(r.Template); err != nil {
		return nil, err
	}
	for _, m := range r.More {
		next := t
		if m.Name != nil {
			next = t.New(*m.Name)
		}
		if len(m.Delims) == 2 {
			next = next.Delims(m.Delims[0], m.Delims[1])
		}
		if _, err = next.Parse(m.Template); err != nil {
			return nil, err
		}
	}
	if r.Execute != nil {
		err = t.ExecuteTemplate(&buf, *r.Execute, dot)
	} else {
		err = t.Execute(&buf, dot)
	}
	return buf.Bytes(), err
}

// option: Option, its panic on a bad option as an error with its text.
func option(t *template.Template, o string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	t.Option(o)
	return nil
}

// serdeData: the tree decoded with UseNumber, each json.Number as the Rust
// crate maps serde_json's numbers (see the header).
func serdeData(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = serdeData(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = serdeData(e)
		}
		return v
	case json.Number:
		text := string(v)
		if !strings.ContainsAny(text, ".eE") {
			if i, err := strconv.ParseInt(text, 10, 64); err == nil {
				return int(i)
			}
			if u, err := strconv.ParseUint(text, 10, 64); err == nil {
				return u
			}
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			panic(fmt.Sprintf("serde data: number %q: %v", text, err))
		}
		return f
	default:
		return v
	}
}

func dotOf(r *record) (any, error) {
	if len(r.Serde) > 0 {
		d := json.NewDecoder(bytes.NewReader(r.Serde))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		return serdeData(v), nil
	}
	if len(r.JSON) > 0 {
		var v any
		err := json.Unmarshal(r.JSON, &v)
		return v, err
	}
	if r.Strings == nil {
		return nil, nil
	}
	m := make(map[string]string, len(r.Strings))
	for k, v := range r.Strings {
		m[k] = string(v)
	}
	return m, nil
}

// nsPerRender: the same method as the Rust side (conformance/bench.rs).
func nsPerRender(r *record, funcs template.FuncMap, dot any, sample time.Duration) float64 {
	start := time.Now()
	render(r, funcs, dot)
	once := time.Since(start)
	if once > 100*time.Millisecond {
		return float64(once.Nanoseconds())
	}
	iters := 1
	if once > 0 && sample > once {
		iters = int(sample / once)
	}
	samples := make([]float64, 0, 5)
	for s := 0; s < 5; s++ {
		start := time.Now()
		for i := 0; i < iters; i++ {
			render(r, funcs, dot)
		}
		samples = append(samples, float64(time.Since(start).Nanoseconds())/float64(iters))
	}
	sort.Float64s(samples)
	return samples[len(samples)/2]
}

func run(benchMs int) error {
	all := referenceFuncs()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		var r record
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			return fmt.Errorf("a record is not JSON: %w", err)
		}
		dot, err := dotOf(&r)
		if err != nil {
			return fmt.Errorf("record %q: json is not JSON: %w", r.Name, err)
		}
		var funcs template.FuncMap
		if !r.Options.NoSprig {
			funcs = funcsWithout(all, r.Options.Undefined)
		}
		output, err := render(&r, funcs, dot)
		res := result{Output: output}
		if err != nil {
			text := err.Error()
			res.Error = &text
		}
		if benchMs > 0 {
			res.NsPerRender = nsPerRender(&r, funcs, dot, time.Duration(benchMs)*time.Millisecond)
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
	return in.Err()
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: conformance funcs | conformance run [-bench-ms N]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "funcs":
		names := make([]string, 0)
		for name := range referenceFuncs() {
			names = append(names, name)
		}
		sort.Strings(names)
		b, _ := json.Marshal(names)
		fmt.Println(string(b))
	case "run":
		fs := flag.NewFlagSet("run", flag.ExitOnError)
		benchMs := fs.Int("bench-ms", 0, "time each record, about this many ms a sample")
		fs.Parse(os.Args[2:])
		if err := run(*benchMs); err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "conformance: unknown command %q (%s)\n", os.Args[1], strings.Join([]string{"funcs", "run"}, ", "))
		os.Exit(2)
	}
}
