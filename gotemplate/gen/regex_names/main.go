// Command regex_names writes gotemplate/src/sprig/regex/names.rs: the Unicode
// class names that Go's regexp/syntax accepts in \p{...} (the keys of
// unicode.Categories, unicode.Scripts and unicode.CategoryAliases), sorted.
//
//	cd gotemplate/gen/regex_names && go run . > ../../src/sprig/regex/names.rs
//
// or scripts/regen-gotemplate-tables, which reruns every generator. The
// output is laid out as rustfmt lays it out (the file is not skipped by
// cargo fmt).
package main

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	goVersion := strings.Join(strings.Split(strings.TrimPrefix(runtime.Version(), "go"), ".")[:2], ".")
	fmt.Fprintf(w, "//! Go %s's Unicode class names (`unicode.Categories`, `unicode.Scripts`,\n", goVersion)
	fmt.Fprintf(w, "//! `unicode.CategoryAliases`), as `regexp/syntax` looks them up.\n")
	fmt.Fprintf(w, "//! Written by gotemplate/gen/regex_names (scripts/regen-gotemplate-tables); do not edit.\n")

	var items []string
	for _, name := range slices.Sorted(maps.Keys(unicode.Categories)) {
		items = append(items, lit(name))
	}
	array(w, "CATEGORIES", "&[&str]", items)

	items = nil
	for _, name := range slices.Sorted(maps.Keys(unicode.Scripts)) {
		items = append(items, lit(name))
	}
	array(w, "SCRIPTS", "&[&str]", items)

	items = nil
	for _, name := range slices.Sorted(maps.Keys(unicode.CategoryAliases)) {
		items = append(items, fmt.Sprintf("(%s, %s)", lit(name), lit(unicode.CategoryAliases[name])))
	}
	array(w, "ALIASES", "&[(&str, &str)]", items)
}

// lit is a Rust string literal; the names are plain ASCII.
func lit(s string) string {
	for _, c := range s {
		if c > 0x7e || c < 0x20 || c == '"' || c == '\\' {
			panic("unexpected character in " + strconv.Quote(s))
		}
	}
	return `"` + s + `"`
}

// array writes a const slice as rustfmt does with its default settings:
// short items (string literals of at most 10 characters, rustfmt's
// short_array_element_width_threshold) fill lines of up to 100 columns,
// anything else goes one item a line.
func array(w *bufio.Writer, name, typ string, items []string) {
	fmt.Fprintf(w, "\npub(crate) const %s: %s = &[\n", name, typ)
	short := true
	for _, it := range items {
		if len(it) > 10 {
			short = false
		}
	}
	if !short {
		for _, it := range items {
			fmt.Fprintf(w, "    %s,\n", it)
		}
	} else {
		line := ""
		for _, it := range items {
			switch {
			case line == "":
				line = "    " + it + ","
			case len(line)+1+len(it)+1 <= 100:
				line += " " + it + ","
			default:
				fmt.Fprintf(w, "%s\n", line)
				line = "    " + it + ","
			}
		}
		if line != "" {
			fmt.Fprintf(w, "%s\n", line)
		}
	}
	fmt.Fprintf(w, "];\n")
}
