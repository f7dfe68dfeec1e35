package redact

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// MinSecretLen is the shortest value Add registers. Shorter values would turn
// ordinary words into markers all over the output; nothing the harness issues
// (tokens, codes, session ids) is that short.
const MinSecretLen = 6

// Redactor replaces secrets in text. The zero value is not usable; call New.
// A Redactor is safe for concurrent use.
type Redactor struct {
	key []byte // per-Redactor HMAC key: markers compare within a run, never across runs

	mu       sync.RWMutex
	secrets  map[string]bool
	replacer *strings.Replacer // rebuilt lazily after Add
}

// New returns a Redactor with a fresh random hashing key and no registered
// secrets; the pattern rules (JWTs, credential parameters, cookies,
// Authorization headers) always apply.
func New() *Redactor {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		// crypto/rand does not fail on supported platforms; a fixed key would
		// still never reveal a value, only make markers comparable across runs.
		key = []byte("rehearsal-redact")
	}
	return &Redactor{key: key, secrets: map[string]bool{}}
}

// Add registers an exact secret value (a token, code or session id the
// harness saw issued). From now on Redact replaces it wherever it appears,
// also in its URL-encoded and JSON-escaped forms. Values shorter than
// MinSecretLen, after trimming spaces, are ignored.
func (r *Redactor) Add(secret string) {
	secret = strings.TrimSpace(secret)
	if len(secret) < MinSecretLen {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secrets[secret] {
		return
	}
	r.secrets[secret] = true
	r.replacer = nil
}

// Marker returns the marker that stands for value, labelled with kind
// (for example "jwt" or "access_token").
func (r *Redactor) Marker(kind, value string) string {
	return "[REDACTED:" + kind + " hmac:" + r.hash(value) + "]"
}

func (r *Redactor) hash(value string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))[:6]
}

// Redact returns s with every secret replaced by its marker. It is
// idempotent: markers are never redacted again.
func (r *Redactor) Redact(s string) string {
	if s == "" {
		return s
	}
	if rep := r.secretReplacer(); rep != nil {
		s = rep.Replace(s)
	}
	for _, rule := range rules {
		s = rule(r, s)
	}
	return s
}

// RedactBytes is Redact for byte slices.
func (r *Redactor) RedactBytes(b []byte) []byte {
	return []byte(r.Redact(string(b)))
}

// secretReplacer returns a replacer for every registered secret in every
// encoding it may appear in, longest first so a secret that contains another
// is replaced whole.
func (r *Redactor) secretReplacer() *strings.Replacer {
	r.mu.RLock()
	rep := r.replacer
	n := len(r.secrets)
	r.mu.RUnlock()
	if rep != nil || n == 0 {
		return rep
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.replacer != nil {
		return r.replacer
	}
	type pair struct{ from, to string }
	seen := map[string]bool{}
	var pairs []pair
	for secret := range r.secrets {
		marker := r.Marker("secret", secret)
		for _, form := range encodings(secret) {
			if !seen[form] {
				seen[form] = true
				pairs = append(pairs, pair{form, marker})
			}
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if d := len(b.from) - len(a.from); d != 0 {
			return d
		}
		return strings.Compare(a.from, b.from)
	})
	args := make([]string, 0, 2*len(pairs))
	for _, p := range pairs {
		args = append(args, p.from, p.to)
	}
	r.replacer = strings.NewReplacer(args...)
	return r.replacer
}

// encodings lists the forms a secret takes in URLs, form bodies and JSON.
func encodings(secret string) []string {
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(secret) == nil {
		quoted := strings.TrimSuffix(buf.String(), "\n")
		forms = append(forms, quoted[1:len(quoted)-1])
	}
	if esc, err := json.Marshal(secret); err == nil { // HTML-escaped form (\u003c ...)
		forms = append(forms, string(esc[1:len(esc)-1]))
	}
	return forms
}
