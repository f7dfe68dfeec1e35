package netfault

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// RequestRecord is one request seen by a link's HTTP fault proxy. It holds no
// request headers or bodies; secret-bearing query parameters and the answer's
// token fields are replaced by REDACTED and a keyed fingerprint of the value
// (so a fresh state can be told from a reused one, a rotated refresh token
// from a kept one); of the answer it keeps headers and JSON scalar fields.
type RequestRecord struct {
	Time      time.Time     `json:"time"`
	Method    string        `json:"method"`
	Path      string        `json:"path"`
	Query     string        `json:"query,omitempty"`
	GrantType string        `json:"grant_type,omitempty"`
	Status    int           `json:"status,omitempty"` // 0 if no answer was given
	Duration  time.Duration `json:"duration"`
	Faults    []string      `json:"faults,omitempty"` // HTTP faults that acted on it
	Outcome   string        `json:"outcome,omitempty"`
	// ResponseHeaders are the answer's headers as the client got them
	// (Set-Cookie left out).
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	// ResponseJSON holds the top-level scalar fields of a JSON answer of at
	// most 64 KiB, token fields replaced by "REDACTED:<fingerprint>" (an
	// empty string stays empty; a non-string token field reads REDACTED).
	ResponseJSON map[string]any `json:"response_json,omitempty"`
}

// redactedParams are query parameters whose values never reach the log.
var redactedParams = map[string]bool{
	"code": true, "state": true, "access_token": true, "refresh_token": true,
	"id_token": true, "id_token_hint": true, "code_verifier": true,
	"client_secret": true, "token": true, "session_state": true, "nonce": true,
}

// Redacted replaces a secret's value in logs.
const Redacted = "REDACTED"

// redactValue replaces a secret value by "REDACTED:<fingerprint>"; the
// fingerprint is of the real value, so equal values read the same and
// different ones differently. An empty value, which hides nothing, is kept.
func redactValue(v string) string {
	if v == "" {
		return v
	}
	return Redacted + ":" + fingerprint(v)
}

// redactLocation fingerprints the credentials (code, state, ...) in a
// redirect's query and fragment, so the log never holds an authorization code.
func redactLocation(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return Redacted
	}
	if u.RawQuery != "" {
		u.RawQuery = redactQuery(u.Query())
	}
	if u.Fragment != "" {
		if f, err := url.ParseQuery(u.Fragment); err == nil {
			u.Fragment = redactQuery(f)
		} else {
			u.Fragment = Redacted
		}
	}
	return u.String()
}

func redactQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	out := url.Values{}
	for k, vs := range q {
		for _, v := range vs {
			if redactedParams[strings.ToLower(k)] {
				v = redactValue(v)
			}
			out.Add(k, v)
		}
	}
	return out.Encode()
}

// fingerprintKey is random per process, so a fingerprint tells two values
// apart (a fresh state per sign-in) but cannot be turned back into the value.
var fingerprintKey = func() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}()

// fingerprint is a short keyed hash of a secret value.
func fingerprint(v string) string {
	m := hmac.New(sha256.New, fingerprintKey)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))[:12]
}

// secretJSONFields are top-level response fields never kept in the log.
var secretJSONFields = map[string]bool{
	"access_token": true, "refresh_token": true, "id_token": true,
	"client_secret": true, "device_code": true, "token": true,
}

// jsonObject decodes an answer body that is a JSON object, or returns nil.
func jsonObject(h http.Header, body []byte) map[string]any {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if len(body) == 0 || !strings.Contains(mt, "json") {
		return nil
	}
	var top map[string]any
	if json.Unmarshal(body, &top) != nil {
		return nil
	}
	return top
}

// tokenFields returns the token fields of a JSON answer body, raw.
func tokenFields(h http.Header, body []byte) map[string]string {
	out := map[string]string{}
	top := jsonObject(h, body)
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		if v, ok := top[k].(string); ok && v != "" {
			out[k] = v
		}
	}
	return out
}

// responseSummary keeps the parts of an answer that checks read: headers
// (without Set-Cookie, a redirect's credentials fingerprinted) and the
// top-level scalar fields of a small JSON body, tokens by fingerprint only.
func responseSummary(h http.Header, body []byte) (map[string]string, map[string]any) {
	headers := map[string]string{}
	for k, vs := range h {
		if strings.EqualFold(k, "Set-Cookie") {
			continue
		}
		v := strings.Join(vs, ", ")
		if strings.EqualFold(k, "Location") {
			v = redactLocation(v)
		}
		headers[http.CanonicalHeaderKey(k)] = v
	}
	top := jsonObject(h, body)
	if top == nil {
		return headers, nil
	}
	out := map[string]any{}
	for k, v := range top {
		if secretJSONFields[k] {
			if s, ok := v.(string); ok {
				out[k] = redactValue(s)
			} else {
				out[k] = Redacted
			}
			continue
		}
		switch v.(type) {
		case string, float64, bool, nil:
			out[k] = v
		}
	}
	return headers, out
}

type requestLog struct {
	mu     sync.Mutex
	max    int
	recs   []RequestRecord
	counts map[string]int
}

func newRequestLog(max int) *requestLog {
	return &requestLog{max: max, counts: map[string]int{}}
}

// count1 counts one request: "OPTIONS path" for preflights, otherwise "path"
// and, for grant requests, also "path[grant]".
func (l *requestLog) count1(method, path, grant string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if method == http.MethodOptions {
		l.counts["OPTIONS "+path]++
		return
	}
	l.counts[path]++
	if grant != "" {
		l.counts[path+"["+grant+"]"]++
	}
}

func (l *requestLog) add(r RequestRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r)
	if len(l.recs) > l.max {
		l.recs = append(l.recs[:0:0], l.recs[len(l.recs)-l.max:]...)
	}
}

func (l *requestLog) records() []RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]RequestRecord(nil), l.recs...)
}

func (l *requestLog) counters() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]int, len(l.counts))
	for k, v := range l.counts {
		out[k] = v
	}
	return out
}

func (l *requestLog) count(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[key]
}

func (l *requestLog) resetCounters() {
	l.mu.Lock()
	l.counts = map[string]int{}
	l.mu.Unlock()
}

// discardLogger silences net/http's own complaints (aborted handlers, broken
// pipes) that faults provoke on purpose.
var discardLogger = log.New(io.Discard, "", 0)
