package netfault

import (
	"io"
	"log"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// RequestRecord is one request seen by a link's HTTP fault proxy. It holds no
// headers and no bodies; secret-bearing query parameters are redacted.
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
}

// redactedParams are query parameters whose values never reach the log.
var redactedParams = map[string]bool{
	"code": true, "state": true, "access_token": true, "refresh_token": true,
	"id_token": true, "id_token_hint": true, "code_verifier": true,
	"client_secret": true, "token": true, "session_state": true, "nonce": true,
}

// Redacted replaces a secret's value in logs.
const Redacted = "REDACTED"

func redactQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	out := url.Values{}
	for k, vs := range q {
		for _, v := range vs {
			if redactedParams[strings.ToLower(k)] && v != "" {
				v = Redacted
			}
			out.Add(k, v)
		}
	}
	return out.Encode()
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
