// Command kms-softhsm-plugin is a Kubernetes KMS v2 plugin for tests: the
// upstream gRPC server (k8s.io/kms/pkg/service) in front of AES-256-GCM keys
// held in a PKCS#11 token (SoftHSM2 here), reached through crypto11. It is a
// test tool, not a production KMS: the token PIN sits in a JSON file, and
// nothing is hardened.
//
// The key_id is the PKCS#11 label (CKA_LABEL) of the current key. The label is
// read from --current-key-file on every Status and Encrypt call, so writing
// another label into that file rotates the key. Decrypt picks the key by the
// key_id the caller hands back, so data wrapped under older keys stays
// readable as long as their keys are in the token. The keys never leave the
// token: GCM runs inside it (C_Encrypt/C_Decrypt with CKM_AES_GCM).
//
// With --init-token, the plugin first makes sure the token of its crypto11
// config exists: when no token has the config's TokenLabel, it initialises the
// first free slot's token (one without CKF_TOKEN_INITIALIZED) with that label
// through PKCS#11 (C_InitToken, then C_InitPIN with the config's Pin), so a
// container needs no softhsm2-util: SoftHSM offers a free slot in an empty
// tokendir. The security officer's PIN is --so-pin (default: the config's
// Pin). An existing token is left alone; no free slot is an error (exit 1).
//
// With --create-missing-key, Status and Encrypt generate the current key in
// the token when no key has its label (a sensitive, non-extractable AES-256
// key), so a test rotates by writing a new label only. Decrypt never creates
// a key.
//
// Encrypt's ciphertext is nonce (12 bytes) || GCM ciphertext || tag (16
// bytes); the additional data is the key_id. Its annotation
// version.softhsm.kms.sealed-secrets.dev = "1" names that format, and Decrypt
// requires it.
//
// Status reports healthz "ok" only after a fresh lookup of the current key
// and an encrypt/decrypt probe with it succeeded; otherwise a short reason.
// On a failed probe the PKCS#11 session is closed and reopened on the next
// call, so the plugin recovers when the token comes back. It does not exit on
// HSM errors.
//
// Usage:
//
//	kms-softhsm-plugin --listen-addr unix:///PATH --config-file-path FILE.json
//	    [--current-key-file FILE | --key-label LABEL] [--create-missing-key]
//	    [--init-token [--so-pin PIN]] [--timeout 5s]
//
// The crypto11 JSON config is {"Path": "/usr/lib/softhsm/libsofthsm2.so",
// "TokenLabel": "...", "Pin": "..."}; SoftHSM itself reads SOFTHSM2_CONF.
// It runs in the foreground until SIGTERM or SIGINT.
package main

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"
	"k8s.io/kms/pkg/service"
	"k8s.io/kms/pkg/util"
)

const (
	apiVersion    = "v2"
	annotationKey = "version.softhsm.kms.sealed-secrets.dev" // an FQDN, as the API server requires
	formatVersion = "1"
	nonceSize     = 12   // the standard GCM nonce
	maxKeyIDSize  = 1024 // the API server's limit
	maxHealthz    = 200  // keep Status's reason short
)

var (
	listenAddr  = flag.String("listen-addr", "unix:///tmp/kms.socket", "gRPC listen address, unix:///PATH")
	timeout     = flag.Duration("timeout", 5*time.Second, "gRPC connection (handshake) timeout")
	configFile  = flag.String("config-file-path", "/etc/softhsm-config.json", `crypto11 JSON config: {"Path": ..., "TokenLabel": ..., "Pin": ...}`)
	currentFile = flag.String("current-key-file", "", "file holding the PKCS#11 label of the current key (re-read on every Status and Encrypt)")
	keyLabel    = flag.String("key-label", "kek-1", "label of the current key when --current-key-file is not set")
	createKey   = flag.Bool("create-missing-key", false, "generate the current key (AES-256, non-extractable) in the token when no key has its label")
	initToken   = flag.Bool("init-token", false, "at start, initialise a free slot's token with the config's TokenLabel and Pin when no token has that label")
	soPin       = flag.String("so-pin", "", "the security officer's PIN of a token made by --init-token (default: the config's Pin)")
)

type plugin struct {
	// mu serialises every use of the token: the calls are few and small, and
	// a reconnection must not race with an operation.
	mu   sync.Mutex
	hsm  *crypto11.Context      // nil until connected, and after a failed probe
	keys map[string]cipher.AEAD // by label, for hsm
	// seen: the labels whose key this process has found or made. A seen key
	// that is gone is never generated afresh: SoftHSM reports an empty token
	// when its directory is removed, and a new key under an old label would
	// make everything wrapped under the old key undecryptable.
	seen map[string]bool
}

// currentLabel returns the label of the current key (the key_id).
func currentLabel() (string, error) {
	label := *keyLabel
	if *currentFile != "" {
		b, err := os.ReadFile(*currentFile)
		if err != nil {
			return "", fmt.Errorf("cannot read the current key file: %w", err)
		}
		label = strings.TrimSpace(string(b))
	}
	return label, checkKeyID(label)
}

// checkKeyID: what the API server accepts (1..=1024 bytes), and a string gRPC
// can carry (UTF-8), without control characters.
func checkKeyID(id string) error {
	switch {
	case id == "":
		return errors.New("empty key_id")
	case len(id) > maxKeyIDSize:
		return fmt.Errorf("key_id longer than %d bytes", maxKeyIDSize)
	case !utf8.ValidString(id):
		return errors.New("key_id is not UTF-8")
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return errors.New("key_id has control characters")
	}
	return nil
}

func loadConfig(path string) (*crypto11.Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the PKCS#11 config: %w", err)
	}
	var cfg crypto11.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("cannot parse the PKCS#11 config %s: %w", path, err)
	}
	if cfg.UseGCMIVFromHSM || (cfg.GCMIVLength != 0 && cfg.GCMIVLength != nonceSize) {
		return nil, fmt.Errorf("the PKCS#11 config %s must leave the GCM IV to the plugin (%d bytes)", path, nonceSize)
	}
	cfg.GCMIVLength = nonceSize
	return &cfg, nil
}

// ensureToken: --init-token. Returns whether it initialised a token.
func ensureToken(path string) (bool, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return false, err
	}
	if cfg.TokenLabel == "" || cfg.Pin == "" {
		return false, fmt.Errorf("--init-token needs TokenLabel and Pin in %s", path)
	}
	if len(cfg.TokenLabel) > 32 {
		return false, fmt.Errorf("the token label %q is longer than 32 bytes", cfg.TokenLabel)
	}
	so := *soPin
	if so == "" {
		so = cfg.Pin
	}
	m := pkcs11.New(cfg.Path)
	if m == nil {
		return false, fmt.Errorf("cannot load the PKCS#11 library %s", cfg.Path)
	}
	defer m.Destroy()
	if err := m.Initialize(); err != nil {
		return false, fmt.Errorf("C_Initialize: %w", err)
	}
	defer func() { _ = m.Finalize() }()
	slots, err := m.GetSlotList(true)
	if err != nil {
		return false, fmt.Errorf("C_GetSlotList: %w", err)
	}
	free, found := -1, false
	for i, slot := range slots {
		info, err := m.GetTokenInfo(slot)
		if err != nil {
			return false, fmt.Errorf("C_GetTokenInfo(slot %d): %w", slot, err)
		}
		if info.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			if free < 0 {
				free = i
			}
			continue
		}
		if info.Label == cfg.TokenLabel {
			found = true
		}
	}
	if found {
		return false, nil
	}
	if free < 0 {
		return false, fmt.Errorf("no token labelled %q and no free slot to initialise one", cfg.TokenLabel)
	}
	slot := slots[free]
	if err := m.InitToken(slot, so, cfg.TokenLabel); err != nil {
		return false, fmt.Errorf("C_InitToken(slot %d): %w", slot, err)
	}
	// The user's PIN, set by the security officer.
	s, err := m.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return false, fmt.Errorf("C_OpenSession(slot %d): %w", slot, err)
	}
	defer func() { _ = m.CloseSession(s) }()
	if err := m.Login(s, pkcs11.CKU_SO, so); err != nil {
		return false, fmt.Errorf("C_Login as security officer: %w", err)
	}
	if err := m.InitPIN(s, cfg.Pin); err != nil {
		return false, fmt.Errorf("C_InitPIN: %w", err)
	}
	if err := m.Logout(s); err != nil {
		return false, fmt.Errorf("C_Logout: %w", err)
	}
	return true, nil
}

// connect returns the token's context, opening it when needed. Called with mu held.
func (p *plugin) connect() (*crypto11.Context, error) {
	if p.hsm != nil {
		return p.hsm, nil
	}
	cfg, err := loadConfig(*configFile)
	if err != nil {
		return nil, err
	}
	ctx, err := crypto11.Configure(cfg)
	if err != nil {
		return nil, fmt.Errorf("HSM unavailable: %w", err)
	}
	p.hsm, p.keys = ctx, map[string]cipher.AEAD{}
	return ctx, nil
}

// reset closes the token's context; the next call reopens it. Called with mu held.
func (p *plugin) reset() {
	if p.hsm != nil {
		_ = p.hsm.Close()
	}
	p.hsm, p.keys = nil, nil
}

// key returns the GCM of the key labelled label: from the cache unless fresh,
// else looked up in the token (and generated there when create is set and
// there is none). Called with mu held.
func (p *plugin) key(label string, create, fresh bool) (cipher.AEAD, error) {
	ctx, err := p.connect()
	if err != nil {
		return nil, err
	}
	if a, ok := p.keys[label]; ok && !fresh {
		return a, nil
	}
	found, err := ctx.FindKeys(nil, []byte(label))
	if err != nil {
		return nil, fmt.Errorf("HSM key lookup failed: %w", err)
	}
	var k *crypto11.SecretKey
	switch {
	case len(found) > 1:
		return nil, fmt.Errorf("%d keys labelled %q in the token", len(found), label)
	case len(found) == 1:
		k = found[0]
	case p.seen[label]:
		return nil, fmt.Errorf("key %q is no longer in the token (token missing?)", label)
	case !create:
		return nil, fmt.Errorf("no key %q in the token", label)
	default:
		id := make([]byte, 16)
		if _, err := rand.Read(id); err != nil {
			return nil, err
		}
		if k, err = ctx.GenerateSecretKeyWithLabel(id, []byte(label), 256, crypto11.CipherAES); err != nil {
			return nil, fmt.Errorf("cannot generate key %q in the token: %w", label, err)
		}
		log.Printf("generated key %q (AES-256, non-extractable) in the token", label)
	}
	if k.Cipher != crypto11.CipherAES {
		return nil, fmt.Errorf("key %q is not an AES key", label)
	}
	if n, err := ctx.GetAttribute(k, crypto11.CkaValueLen); err != nil || len(n.Value) == 0 || n.Value[0] != 32 {
		return nil, fmt.Errorf("key %q is not an AES-256 key", label)
	}
	a, err := k.NewGCM()
	if err != nil {
		return nil, err
	}
	p.keys[label] = a
	p.seen[label] = true
	return a, nil
}

// seal encrypts under a: crypto11's Seal panics when the token fails.
func seal(a cipher.AEAD, plaintext, aad []byte) (ct []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			ct, err = nil, fmt.Errorf("HSM encrypt failed: %v", r)
		}
	}()
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return a.Seal(nonce, nonce, plaintext, aad), nil
}

func open(a cipher.AEAD, ct, aad []byte) (pt []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			pt, err = nil, fmt.Errorf("HSM decrypt failed: %v", r)
		}
	}()
	if len(ct) < nonceSize+a.Overhead() {
		return nil, errors.New("ciphertext too short")
	}
	return a.Open(nil, ct[:nonceSize], ct[nonceSize:], aad)
}

func (p *plugin) Encrypt(_ context.Context, uid string, plaintext []byte) (*service.EncryptResponse, error) {
	label, err := currentLabel()
	if err != nil {
		return nil, err
	}
	if len(plaintext) == 0 {
		return nil, errors.New("empty plaintext")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	a, err := p.key(label, *createKey, false)
	if err != nil {
		log.Printf("Encrypt uid=%s key_id=%q: %v", uid, label, err)
		return nil, err
	}
	ct, err := seal(a, plaintext, []byte(label))
	if err != nil {
		log.Printf("Encrypt uid=%s key_id=%q: %v", uid, label, err)
		return nil, err
	}
	log.Printf("Encrypt uid=%s key_id=%q plaintext=%dB ciphertext=%dB", uid, label, len(plaintext), len(ct))
	return &service.EncryptResponse{
		Ciphertext:  ct,
		KeyID:       label,
		Annotations: map[string][]byte{annotationKey: []byte(formatVersion)},
	}, nil
}

func (p *plugin) Decrypt(_ context.Context, uid string, req *service.DecryptRequest) ([]byte, error) {
	if v, ok := req.Annotations[annotationKey]; !ok || string(v) != formatVersion {
		return nil, fmt.Errorf("annotation %s is missing or not %q", annotationKey, formatVersion)
	}
	if err := checkKeyID(req.KeyID); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	a, err := p.key(req.KeyID, false, false)
	if err == nil {
		var pt []byte
		if pt, err = open(a, req.Ciphertext, []byte(req.KeyID)); err == nil {
			log.Printf("Decrypt uid=%s key_id=%q plaintext=%dB", uid, req.KeyID, len(pt))
			return pt, nil
		}
		// SoftHSM answers CKR_GENERAL_ERROR to a failed GCM tag check.
		err = fmt.Errorf("cannot decrypt (tampered data, or another key): %w", err)
	}
	log.Printf("Decrypt uid=%s key_id=%q: %v", uid, req.KeyID, err)
	return nil, err
}

func (p *plugin) Status(context.Context) (*service.StatusResponse, error) {
	label, err := currentLabel()
	if err != nil {
		return &service.StatusResponse{Version: apiVersion, Healthz: short(err), KeyID: "unknown"}, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.probe(label); err != nil {
		log.Printf("Status: key_id=%q unhealthy: %v", label, err)
		p.reset()
		return &service.StatusResponse{Version: apiVersion, Healthz: short(err), KeyID: label}, nil
	}
	return &service.StatusResponse{Version: apiVersion, Healthz: "ok", KeyID: label}, nil
}

// probe looks the current key up afresh and runs a round trip through it.
func (p *plugin) probe(label string) error {
	a, err := p.key(label, *createKey, true)
	if err != nil {
		return err
	}
	msg := []byte("kms-softhsm-plugin health probe")
	ct, err := seal(a, msg, []byte("healthz"))
	if err != nil {
		return err
	}
	pt, err := open(a, ct, []byte("healthz"))
	if err != nil {
		return fmt.Errorf("HSM decrypt failed: %w", err)
	}
	if !bytes.Equal(pt, msg) {
		return errors.New("HSM round trip returned other data")
	}
	return nil
}

// short: the reason Status reports, on one line and bounded.
func short(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > maxHealthz {
		s = s[:maxHealthz] + "..."
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	return s
}

func main() {
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("unexpected arguments: %q", flag.Args())
	}
	log.SetPrefix("kms-softhsm-plugin: ")
	if *initToken {
		made, err := ensureToken(*configFile)
		if err != nil {
			log.Fatalf("--init-token: %v", err)
		}
		if made {
			log.Printf("initialised the token of %s in a free slot", *configFile)
		} else {
			log.Printf("the token of %s exists", *configFile)
		}
	}
	addr, err := util.ParseEndpoint(*listenAddr)
	if err != nil {
		log.Fatal(err)
	}
	// A socket left by a killed run; never remove anything else.
	if fi, err := os.Lstat(addr); err == nil && fi.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(addr)
	}
	p := &plugin{seen: map[string]bool{}}
	srv := service.NewGRPCService(addr, *timeout, p)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe() }()
	st, _ := p.Status(context.Background())
	log.Printf("listening on %s; healthz=%q key_id=%q", addr, st.Healthz, st.KeyID)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case err := <-done:
		log.Fatalf("serve: %v", err)
	case s := <-sig:
		log.Printf("%v: stopping", s)
	}
	srv.Shutdown()
	p.mu.Lock()
	p.reset()
	p.mu.Unlock()
}
