// Command git-server serves the bare Git repositories under a directory over
// Git's smart HTTP protocol, for the end-to-end tests of the GitOps loop
// (Flux's source-controller clones with go-git; `git clone` works too).
//
// It is a thin net/http front of `git http-backend` (CGI), so it needs the
// git binary (Debian's git package). Every repository under --root is
// exported; pushes over HTTP are accepted (no authentication).
//
// Usage:
//
//	git-server --root DIR [--listen 127.0.0.1:0] [--verbose]
//
// The first line on stdout is the address it listens on (HOST:PORT, the
// chosen port when --listen asks for port 0); a repository DIR/NAME.git is
// then at http://HOST:PORT/NAME.git. It runs in the foreground until killed.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (port 0: pick a free port)")
	root := flag.String("root", "", "directory holding the bare repositories (required)")
	verbose := flag.Bool("verbose", false, "log every request on stderr")
	flag.Parse()
	log.SetPrefix("git-server: ")
	log.SetFlags(0)
	if *root == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	dir, err := filepath.Abs(*root)
	if err != nil {
		log.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		log.Fatalf("--root %s: not a directory", *root)
	}
	git, err := exec.LookPath("git")
	if err != nil {
		log.Fatal("git not found on PATH (apt-get install git)")
	}

	backend := &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		Dir:  dir,
		Env: []string{
			"GIT_PROJECT_ROOT=" + dir,
			"GIT_HTTP_EXPORT_ALL=1",
			// Ignore the system and user configuration, accept pushes
			// without authentication and repositories owned by anyone.
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=/dev/null",
			"GIT_CONFIG_COUNT=2",
			"GIT_CONFIG_KEY_0=http.receivepack",
			"GIT_CONFIG_VALUE_0=true",
			"GIT_CONFIG_KEY_1=safe.directory",
			"GIT_CONFIG_VALUE_1=*",
		},
		Stderr: os.Stderr,
	}
	var handler http.Handler = backend
	if *verbose {
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.Printf("%s %s", r.Method, r.URL.RequestURI())
			backend.ServeHTTP(w, r)
		})
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr().String())
	log.Printf("serving %s on http://%s/", dir, ln.Addr())
	log.Fatal(http.Serve(ln, handler))
}
