// Command kstatus prints the kstatus status (sigs.k8s.io/cli-utils
// pkg/kstatus/status.Compute, the library behind Flux's default health
// checks) of Kubernetes objects.
//
// Usage:
//
//	kstatus [FILE...] (no FILE or "-": standard input)
//
// The input holds one or more objects as JSON or YAML: a single object, a
// JSON array of objects, a `kind: *List` object with `items`, or a stream of
// these (concatenated JSON values or `---`-separated YAML documents). For
// every object it prints one line:
//
//	<namespace>/<name>\t<Status>\t<message>
//
// (namespace empty for cluster-scoped objects) where Status is one of
// Current, InProgress, Failed, Terminating, NotFound, Unknown. When Compute
// returns an error, the line says Unknown and the error. Tabs and newlines in
// messages are printed as spaces. It exits 1 only when the input cannot be
// read or parsed, 2 on bad usage.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	args := os.Args[1:]
	for _, a := range args {
		if a == "-h" || a == "--help" {
			fmt.Fprintln(os.Stderr, "usage: kstatus [FILE...]  (objects as JSON or YAML; default standard input)")
			os.Exit(0)
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			fmt.Fprintf(os.Stderr, "kstatus: unknown flag %s\n", a)
			os.Exit(2)
		}
	}
	if len(args) == 0 {
		args = []string{"-"}
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, name := range args {
		objs, err := readObjects(name)
		if err != nil {
			out.Flush()
			fmt.Fprintf(os.Stderr, "kstatus: %s: %v\n", name, err)
			os.Exit(1)
		}
		for _, obj := range objs {
			u := &unstructured.Unstructured{Object: obj}
			st, msg := status.UnknownStatus, ""
			res, err := status.Compute(u)
			switch {
			case err != nil:
				msg = err.Error()
			case res != nil:
				st, msg = res.Status, res.Message
			}
			fmt.Fprintf(out, "%s/%s\t%s\t%s\n", u.GetNamespace(), u.GetName(), st, oneLine(msg))
		}
	}
}

func readObjects(name string) ([]map[string]any, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	dec := yaml.NewYAMLOrJSONDecoder(r, 4096)
	var objs []map[string]any
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := collect(doc, &objs); err != nil {
			return nil, err
		}
	}
	return objs, nil
}

// collect appends the objects of one document: an object, a List, an array.
func collect(doc any, objs *[]map[string]any) error {
	switch v := doc.(type) {
	case nil:
		return nil // empty YAML document
	case []any:
		for _, item := range v {
			if err := collect(item, objs); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if items, ok := v["items"].([]any); ok && isList(v) {
			return collect(items, objs)
		}
		*objs = append(*objs, normalize(v).(map[string]any))
		return nil
	default:
		return fmt.Errorf("expected a Kubernetes object, got %T", doc)
	}
}

func isList(v map[string]any) bool {
	kind, _ := v["kind"].(string)
	return kind == "" || strings.HasSuffix(kind, "List")
}

// normalize turns float64 numbers that are integers into int64, as the API
// machinery's JSON decoding does, so that unstructured's typed accessors
// (observedGeneration, replicas, ...) read them.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	default:
		return v
	}
}

func oneLine(s string) string {
	return strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
