package run

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"rehearsal/scenarios"
)

func ptr(n int) *int { return &n }

func TestCountBounds(t *testing.T) {
	cases := []struct {
		c    scenarios.Count
		n    int
		want bool
	}{
		{scenarios.Count{Exactly: ptr(1)}, 1, true},
		{scenarios.Count{Exactly: ptr(1)}, 2, false},
		{scenarios.Count{AtMost: ptr(1)}, 0, true},
		{scenarios.Count{AtMost: ptr(1)}, 2, false},
		{scenarios.Count{AtLeast: ptr(2)}, 1, false},
		{scenarios.Count{AtLeast: ptr(1), AtMost: ptr(3)}, 3, true},
	}
	for _, c := range cases {
		if got := countOK(c.c, c.n); got != c.want {
			t.Errorf("countOK(%s, %d) = %v, want %v", describeCount(c.c), c.n, got, c.want)
		}
	}
}

func TestURLHasParamLooksAtQueryAndFragment(t *testing.T) {
	for raw, want := range map[string]bool{
		"http://app.rehearsal.test/companies/2":                    false,
		"http://app.rehearsal.test/callback?code=abc&state=xyz":    true,
		"http://app.rehearsal.test/callback#code=abc":              true,
		"http://app.rehearsal.test/callback?error_code=1":          false,
		"http://app.rehearsal.test/?x=1&code=":                     true,
		"http://app.rehearsal.test/companies/2?returned_code=zzzz": false,
	} {
		if got := urlHasParam(raw, "code"); got != want {
			t.Errorf("urlHasParam(%q, code) = %v, want %v", raw, got, want)
		}
	}
}

func TestMatchResponseSaysWhatDiffered(t *testing.T) {
	r := &response{
		Status:   401,
		Header:   http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}, "Access-Control-Allow-Origin": {"http://app.rehearsal.test"}},
		Body:     []byte(`{"code":"invalid_token","id":"01J","utcTime":"2026-12-03T10:00:00Z"}`),
		Duration: 30 * time.Millisecond,
	}
	ok := scenarios.Match{Status: 401, Headers: map[string]string{"WWW-Authenticate": `error="invalid_token"`},
		JSON: map[string]any{"code": "invalid_token"}, JSONHas: []string{"id", "utcTime"}, TookAtMost: scenarios.Duration(time.Second)}
	if err := matchResponse(r, ok); err != nil {
		t.Fatalf("a matching answer was refused: %v", err)
	}
	bad := scenarios.Match{Status: 503, HeadersPresent: []string{"Retry-After"}, JSON: map[string]any{"code": "key_source_unavailable"},
		TookAtMost: scenarios.Duration(time.Millisecond)}
	err := matchResponse(r, bad)
	if err == nil {
		t.Fatal("a 401 passed a check for a 503")
	}
	for _, want := range []string{"status 401, want 503", "Retry-After missing", "code = invalid_token, want key_source_unavailable", "want at most 1ms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := matchResponse(&response{Err: http.ErrHandlerTimeout}, scenarios.Match{Status: 200}); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Errorf("a call with no answer: %v", err)
	}
}

func TestTamperingKeepsTheJWTShapeButBreaksIt(t *testing.T) {
	tok := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsInNjb3BlIjoiYXBpOnJlYWQifQ.c2lnbmF0dXJl"
	sig := tamperSignature(tok)
	if sig == tok || strings.Count(sig, ".") != 2 || !strings.HasPrefix(sig, tok[:strings.LastIndex(tok, ".")+1]) {
		t.Errorf("tamperSignature(%q) = %q: want the same header and payload with another signature", tok, sig)
	}
	pl := tamperPayload(tok)
	if pl == tok || !strings.HasSuffix(pl, ".c2lnbmF0dXJl") {
		t.Errorf("tamperPayload(%q) = %q: want another payload with the same signature", tok, pl)
	}
}
