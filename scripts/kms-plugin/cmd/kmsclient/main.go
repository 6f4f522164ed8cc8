// Command kmsclient calls a KMS v2 plugin (Status, Encrypt, Decrypt) over its
// unix socket, for scripts/test-kms-plugin and as an oracle for other tests.
//
// Usage:
//
//	kmsclient -socket PATH status
//	    prints {"version":...,"healthz":...,"key_id":...}
//	kmsclient -socket PATH encrypt < PLAINTEXT
//	    prints the response: {"ciphertext":B64,"key_id":...,"annotations":{K:B64}}
//	kmsclient -socket PATH decrypt < RESPONSE.json
//	    takes what encrypt printed, writes the plaintext to stdout
//
// Base64 is the standard alphabet with padding. A failed call prints the gRPC
// error on stderr and exits 1; bad usage exits 2.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	kmsapi "k8s.io/kms/apis/v2"
)

type status struct {
	Version string `json:"version"`
	Healthz string `json:"healthz"`
	KeyID   string `json:"key_id"`
}

// sealed is Encrypt's response, and what Decrypt needs back.
type sealed struct {
	Ciphertext  []byte            `json:"ciphertext"`
	KeyID       string            `json:"key_id"`
	Annotations map[string][]byte `json:"annotations"`
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kmsclient: "+format+"\n", args...)
	os.Exit(code)
}

func main() {
	sock := flag.String("socket", "", "the plugin's unix socket (a path)")
	timeout := flag.Duration("timeout", 10*time.Second, "deadline of the call")
	uid := flag.String("uid", "kmsclient", "the request's uid")
	flag.Parse()
	if *sock == "" || flag.NArg() != 1 {
		fail(2, "usage: kmsclient -socket PATH status|encrypt|decrypt")
	}
	conn, err := grpc.NewClient("unix://"+*sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail(1, "%v", err)
	}
	defer conn.Close()
	c := kmsapi.NewKeyManagementServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	out := json.NewEncoder(os.Stdout)

	switch flag.Arg(0) {
	case "status":
		r, err := c.Status(ctx, &kmsapi.StatusRequest{})
		if err != nil {
			fail(1, "Status: %v", err)
		}
		_ = out.Encode(status{r.Version, r.Healthz, r.KeyId})
	case "encrypt":
		pt, err := io.ReadAll(os.Stdin)
		if err != nil {
			fail(1, "reading stdin: %v", err)
		}
		r, err := c.Encrypt(ctx, &kmsapi.EncryptRequest{Plaintext: pt, Uid: *uid})
		if err != nil {
			fail(1, "Encrypt: %v", err)
		}
		_ = out.Encode(sealed{r.Ciphertext, r.KeyId, r.Annotations})
	case "decrypt":
		var s sealed
		if err := json.NewDecoder(os.Stdin).Decode(&s); err != nil {
			fail(1, "reading the encrypt response on stdin: %v", err)
		}
		r, err := c.Decrypt(ctx, &kmsapi.DecryptRequest{
			Ciphertext: s.Ciphertext, KeyId: s.KeyID, Annotations: s.Annotations, Uid: *uid,
		})
		if err != nil {
			fail(1, "Decrypt: %v", err)
		}
		_, _ = os.Stdout.Write(r.Plaintext)
	default:
		fail(2, "unknown command %q (status, encrypt, decrypt)", flag.Arg(0))
	}
}
