// Command isprint_table writes gotemplate/src/strconv/isprint_table.rs: the
// code points for which Go's strconv.IsPrint is true (the same set as
// unicode.IsPrint), as sorted inclusive ranges. strconv.Quote and the %q verb
// escape every rune outside them.
//
//	cd gotemplate/gen/isprint_table && go run . > ../../src/strconv/isprint_table.rs
//
// or scripts/regen-gotemplate-tables, which reruns every generator.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unicode"
)

func main() {
	type span struct{ lo, hi rune }
	var spans []span
	for r := rune(0); r <= unicode.MaxRune; r++ {
		p := strconv.IsPrint(r)
		if p != unicode.IsPrint(r) {
			panic(fmt.Sprintf("strconv.IsPrint and unicode.IsPrint differ at %U", r))
		}
		if !p {
			continue
		}
		if n := len(spans); n > 0 && spans[n-1].hi == r-1 {
			spans[n-1].hi = r
		} else {
			spans = append(spans, span{r, r})
		}
	}

	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	goVersion := strings.Join(strings.Split(strings.TrimPrefix(runtime.Version(), "go"), ".")[:2], ".")
	fmt.Fprintf(w, "//! Generated from Go %s `unicode.IsPrint` (== `strconv.IsPrint`) over all\n", goVersion)
	fmt.Fprintf(w, "//! code points by a Go program: inclusive ranges of printable runes, sorted.\n")
	fmt.Fprintf(w, "//! Written by gotemplate/gen/isprint_table (scripts/regen-gotemplate-tables); do not edit.\n")
	fmt.Fprintf(w, "\n#[rustfmt::skip]\npub(crate) static PRINT_RANGES: [(u32, u32); %d] = [\n", len(spans))
	for i := 0; i < len(spans); i += 4 {
		var line []string
		for _, s := range spans[i:min(i+4, len(spans))] {
			line = append(line, fmt.Sprintf("(%#x, %#x)", s.lo, s.hi))
		}
		fmt.Fprintf(w, "    %s,\n", strings.Join(line, ", "))
	}
	fmt.Fprintf(w, "];\n")
}
