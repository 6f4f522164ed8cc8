// Command gen writes the differential table for api/src/go_base64.rs: one row
// per input, with what Go's base64.StdEncoding.DecodeString makes of it.
//
//	cd api/tests/data/go_base64/gen && go run . > ../cases.tsv
//
// Row format (tab separated): hex(input), then either "ok" and hex(decoded)
// or "err" and the offset N of Go's CorruptInputError
// ("illegal base64 data at input byte N"). Lines starting with '#' are
// comments. The corpus is deterministic (fixed seed), so regenerating with the
// same Go version gives the same file.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
)

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// Bytes that are not in the standard alphabet but matter to the decoder:
// padding, the skipped newlines, the URL-safe alphabet, whitespace Go does
// not skip, NUL, a '=' look-alike, UTF-8 and invalid UTF-8 bytes.
var specials = []string{
	"=", "\n", "\r", "\r\n", "-", "_", " ", "\t", "\x00", ".", "*", "é", "€",
	"\xff", "\x80", "\x7f", "==", "=\n=",
}

type corpus struct {
	seen  map[string]bool
	order []string
}

func (c *corpus) add(s string) {
	if !c.seen[s] {
		c.seen[s] = true
		c.order = append(c.order, s)
	}
}

// every string of length 0..maxLen over the given symbols
func (c *corpus) exhaustive(symbols []string, maxLen int) {
	var rec func(prefix string, n int)
	rec = func(prefix string, n int) {
		c.add(prefix)
		if n == 0 {
			return
		}
		for _, s := range symbols {
			rec(prefix+s, n-1)
		}
	}
	rec("", maxLen)
}

func main() {
	rng := rand.New(rand.NewPCG(0x5ea1ed, 0x5ec2e75))
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	c := &corpus{seen: map[string]bool{}}
	enc := base64.StdEncoding

	// Hand-picked cases.
	for _, s := range []string{
		"", "=", "==", "===", "====", "\n", "\r", "\r\n", "\n\n\n\n",
		"A", "AA", "AAA", "AAAA", "AA=", "AA==", "AAA=", "AA=A", "A===", "A=",
		"AA===", "AAA==", "AAAA=", "AAAA==", "AAAA====", "AA==AA==", "AA==AAAA",
		"AAA=AAAA", "AA=\n=", "AA=\r\n=", "AA\n==", "AA=\n", "AA=\n\n", "AA==\n",
		"AA==\nA", "AA==\n\n=", "AAA=\n", "AAA=\nA", "A\nA", "A\nAA", "\nA", "A\n",
		"QQ==", "QR==", "QUI=", "QUJ=", "QUJD", "Zm9vYmFy", "Zm9vYmE=", "Zm9vYg==",
		"Zm9v YmFy", "Zm9v\tYmFy", "Zm9v\nYmFy", "Zm9v\r\nYmFy", "Zm9vYmFy\n",
		"Zm9vYmE-", "Zm9vYmE_", "Zm9v-_-_", "-", "_", "+/+/", "////", "++++",
		"\x00", "AAAA\x00", "\x00AAAA", "é", "AAéA", "AAAAé", "€€€€", "AA\xffA",
		"AAAAAAAA", "AAAAAAA", "AAAAAAAAA", "AAAAAAAAAAAA", "AAAAAAA=", "AAAAAA==",
		"AAAAAAAA=", "AAAAAAAAAAAAAAA*", "AAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAA==",
		"AAAAAAA*AAAAAAAA", "AAAA\nAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nAA",
		"aGVsbG8gd29ybGQ=", "aGVsbG8gd29ybGQ", "aGVsbG8gd29ybGQ==", "aGVsbG8=d29ybGQ=",
		"cGFzc3dvcmQ=", "cGFzc3dvcmQ=\n", "\ncGFzc3dvcmQ=", "c\rG\nF\rz\nc\r3\nd\rv\nc\rm\nQ\r=\n",
		"null", "true", "1234", "12345", "{}", "\"AAAA\"",
	} {
		c.add(s)
	}

	// Exhaustive small inputs around padding and newlines.
	c.exhaustive([]string{"A", "=", "\n", "\r", "-"}, 5)
	c.exhaustive([]string{"Q", "=", "\n"}, 7)

	// Valid encodings of every length 0..60 (every length mod 4, with and
	// without padding), then every single-byte edit of a few of them.
	var valids []string
	for n := 0; n <= 60; n++ {
		s := enc.EncodeToString(randBytes(n))
		valids = append(valids, s)
		c.add(s)
		c.add(strings.TrimRight(s, "="))                      // missing padding
		c.add(s + "=")                                        // too much padding
		c.add(s + "\n")                                       // trailing newline
		c.add("\r\n" + s + "\r\n")                            // surrounding newlines
		c.add(strings.ReplaceAll(s, "=", "\n=\r"))            // newlines inside padding
		c.add(strings.ReplaceAll(s, "+", "-"))                // URL-safe
		c.add(strings.ReplaceAll(s, "/", "_"))                // URL-safe
		c.add(s + s)                                          // padding in the middle
		c.add(strings.TrimRight(s, "=") + "=" + s[len(s)/2:]) // '=' then more
	}
	for _, s := range valids {
		if len(s) > 16 {
			continue
		}
		for i := 0; i <= len(s); i++ {
			c.add(s[:i])                        // truncation
			c.add(s[:i] + s[min(i+1, len(s)):]) // deletion
			for _, sp := range specials {
				c.add(s[:i] + sp + s[i:]) // insertion
				if i < len(s) {
					c.add(s[:i] + sp + s[i+1:]) // replacement
				}
			}
		}
	}

	// Random strings from a weighted alphabet: mostly base64 digits, with
	// padding, newlines and junk sprinkled in.
	weighted := []string{}
	for _, ch := range alphabet {
		weighted = append(weighted, string(ch))
	}
	for range 8 {
		weighted = append(weighted, "=", "\n", "\r")
	}
	weighted = append(weighted, specials...)
	for range 3000 {
		n := rng.IntN(40)
		var b strings.Builder
		for range n {
			b.WriteString(weighted[rng.IntN(len(weighted))])
		}
		c.add(b.String())
	}
	// Random valid encodings with newlines sprinkled in (decode fine), and
	// with one random corruption.
	for range 1500 {
		s := enc.EncodeToString(randBytes(rng.IntN(48)))
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			for rng.IntN(4) == 0 {
				b.WriteString([]string{"\n", "\r", "\r\n"}[rng.IntN(3)])
			}
			b.WriteByte(s[i])
		}
		if rng.IntN(3) == 0 {
			b.WriteString("\n")
		}
		t := b.String()
		c.add(t)
		if len(t) > 0 {
			i := rng.IntN(len(t) + 1)
			c.add(t[:i] + specials[rng.IntN(len(specials))] + t[i:])
		}
	}

	// Long inputs, across the 8-byte and 4-byte fast paths of Decode.
	for _, n := range []int{1000, 1001, 1002, 3000} {
		s := enc.EncodeToString(randBytes(n))
		c.add(s)
		c.add(s[:len(s)-1])
		c.add(s + "=")
		c.add(s[:len(s)/2] + "*" + s[len(s)/2+1:])
		c.add(s[:len(s)-7] + "\n" + s[len(s)-7:])
		var wrapped strings.Builder // MIME-style 76-column lines
		for i := 0; i < len(s); i += 76 {
			wrapped.WriteString(s[i:min(i+76, len(s))])
			wrapped.WriteString("\r\n")
		}
		c.add(wrapped.String())
	}
	c.add(strings.Repeat("\n", 5000))
	c.add(strings.Repeat("\n", 5000) + "A")
	c.add(strings.Repeat("=", 5000))
	c.add(strings.Repeat("AAAA", 2500) + "A")

	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "# generated by api/tests/data/go_base64/gen with %s; do not edit\n", runtime.Version())
	fmt.Fprintf(w, "# hex(input)\tok\thex(decoded)   or   hex(input)\terr\toffset\n")
	for _, s := range c.order {
		out, err := enc.DecodeString(s)
		var cie base64.CorruptInputError
		switch {
		case err == nil:
			fmt.Fprintf(w, "%s\tok\t%s\n", hex.EncodeToString([]byte(s)), hex.EncodeToString(out))
		case errors.As(err, &cie):
			fmt.Fprintf(w, "%s\terr\t%d\n", hex.EncodeToString([]byte(s)), int64(cie))
		default:
			panic(fmt.Sprintf("unexpected error %T for %q", err, s))
		}
	}
}
