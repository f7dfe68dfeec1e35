package control

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// fake is a control plane that records each call and answers from a table.
type fake struct {
	mu    sync.Mutex
	calls []call
	// answers maps "METHOD /path" to a status and a body.
	answers map[string]answer
}

type call struct {
	Method, Path, Query, ContentType string
	Body                             map[string]any
}

type answer struct {
	status int
	body   string
}

func newFake(t *testing.T, answers map[string]answer) (*fake, string) {
	t.Helper()
	f := &fake{answers: answers}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		c := call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type")}
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &c.Body); err != nil {
				http.Error(w, "fake: body is not a JSON object: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		f.mu.Lock()
		f.calls = append(f.calls, c)
		f.mu.Unlock()
		a, ok := f.answers[r.Method+" "+r.URL.Path]
		if !ok {
			http.Error(w, "404 page not found", http.StatusNotFound)
			return
		}
		if a.status == 0 {
			a.status = http.StatusOK
		}
		if strings.HasPrefix(a.body, "{") || strings.HasPrefix(a.body, "[") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fake) last(t *testing.T) call {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("no call reached the fake control plane")
	}
	return f.calls[len(f.calls)-1]
}

func wantCall(t *testing.T, got call, method, path string, body map[string]any) {
	t.Helper()
	if got.Method != method || got.Path != path {
		t.Fatalf("called %s %s, want %s %s", got.Method, got.Path, method, path)
	}
	if !reflect.DeepEqual(got.Body, body) {
		t.Fatalf("%s %s body %v, want %v", method, path, got.Body, body)
	}
	if body != nil && got.ContentType != "application/json" {
		t.Fatalf("%s %s Content-Type %q", method, path, got.ContentType)
	}
}

var ctx = context.Background()

func TestSharedEndpoints(t *testing.T) {
	now := "2026-12-03T10:00:00Z"
	f, url := newFake(t, map[string]answer{
		"GET /clock":           {body: `{"now":"` + now + `","offset":"0s"}`},
		"POST /clock/advance":  {body: `{"now":"` + now + `","offset":"1m1s"}`},
		"PUT /clock/offset":    {body: `{"now":"` + now + `","offset":"-30s"}`},
		"GET /logs":            {body: `{"entries":[{"time":"` + now + `","level":"INFO","msg":"token issued","attrs":{"kid":"a"}}]}`},
		"GET /requests":        {body: `{"counts":{"/oauth/token[refresh_token]":2,"/keys":1},"keys":["/keys","/oauth/token[refresh_token]"]}`},
		"POST /requests/reset": {status: http.StatusNoContent},
		"GET /defects":         {body: `{"defects":["api-fetch-error-as-401"]}`},
	})
	// Both clients share these endpoints; exercise them through each.
	for _, c := range []interface {
		Clock(context.Context) (ClockState, error)
		AdvanceClock(context.Context, time.Duration) (ClockState, error)
		SetClockOffset(context.Context, time.Duration) (ClockState, error)
		Logs(context.Context, time.Time) ([]LogEntry, error)
		Requests(context.Context) (map[string]int, error)
		ResetRequests(context.Context) error
		Defects(context.Context) ([]string, error)
	}{NewAS(url+"/", nil), NewAPI(url, nil)} {
		st, err := c.Clock(ctx)
		if err != nil || st.Offset != 0 || st.Now.Format(time.RFC3339) != now {
			t.Fatalf("Clock: %+v, %v", st, err)
		}
		wantCall(t, f.last(t), "GET", "/clock", nil)

		st, err = c.AdvanceClock(ctx, 61*time.Second)
		if err != nil || st.Offset != 61*time.Second {
			t.Fatalf("AdvanceClock: %+v, %v", st, err)
		}
		wantCall(t, f.last(t), "POST", "/clock/advance", map[string]any{"by": "1m1s"})

		st, err = c.SetClockOffset(ctx, -30*time.Second)
		if err != nil || st.Offset != -30*time.Second {
			t.Fatalf("SetClockOffset: %+v, %v", st, err)
		}
		wantCall(t, f.last(t), "PUT", "/clock/offset", map[string]any{"offset": "-30s"})

		since := time.Date(2026, 12, 3, 9, 0, 0, 500, time.FixedZone("x", 3600))
		logs, err := c.Logs(ctx, since)
		if err != nil || len(logs) != 1 || logs[0].Message != "token issued" || logs[0].Attrs["kid"] != "a" {
			t.Fatalf("Logs: %+v, %v", logs, err)
		}
		if q := f.last(t).Query; q != "since=2026-12-03T08%3A00%3A00.0000005Z" {
			t.Fatalf("Logs query %q", q)
		}
		if _, err := c.Logs(ctx, time.Time{}); err != nil || f.last(t).Query != "" {
			t.Fatalf("Logs without since: query %q, %v", f.last(t).Query, err)
		}

		counts, err := c.Requests(ctx)
		if err != nil || counts["/oauth/token[refresh_token]"] != 2 || counts["/keys"] != 1 {
			t.Fatalf("Requests: %v, %v", counts, err)
		}
		if err := c.ResetRequests(ctx); err != nil {
			t.Fatal(err)
		}
		wantCall(t, f.last(t), "POST", "/requests/reset", nil)

		d, err := c.Defects(ctx)
		if err != nil || !reflect.DeepEqual(d, []string{"api-fetch-error-as-401"}) {
			t.Fatalf("Defects: %v, %v", d, err)
		}
	}
}

func TestErrorsNameEndpointStatusAndReason(t *testing.T) {
	_, url := newFake(t, map[string]answer{
		"POST /keys/retire": {status: http.StatusConflict, body: "key k1 is the signing key; activate another or rotate-now before retiring it\n"},
		"GET /clock":        {body: `<html>not json</html>`},
	})
	as := NewAS(url, nil)
	_, err := as.RetireKey(ctx, "k1")
	var ce *Error
	if !errors.As(err, &ce) || ce.Status != http.StatusConflict || StatusOf(err) != 409 {
		t.Fatalf("RetireKey error %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"POST " + url + "/keys/retire", "409 Conflict", "is the signing key"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if _, err := as.Clock(ctx); err == nil || !strings.Contains(err.Error(), "GET "+url+"/clock") || !strings.Contains(err.Error(), "not json") {
		t.Fatalf("bad JSON error: %v", err)
	}
	if err := NewAPI(url, nil).ResetRequests(ctx); StatusOf(err) != 404 {
		t.Fatalf("missing endpoint: %v", err)
	}
	dead := NewAPI("http://127.0.0.1:1", &http.Client{Timeout: time.Second})
	if _, err := dead.Defects(ctx); err == nil || StatusOf(err) != 0 || !strings.Contains(err.Error(), "GET http://127.0.0.1:1/defects") {
		t.Fatalf("connection error: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := as.Keys(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

func TestASKeys(t *testing.T) {
	keys := `{"keys":[{"kid":"k1","alg":"RS256","state":"active"},{"kid":"k2","alg":"RS256","state":"next"},{"kid":"k0","alg":"RS256","state":"retired"}],"cache_max_age":"1h0m0s"}`
	f, url := newFake(t, map[string]answer{
		"GET /keys":               {body: keys},
		"POST /keys/publish":      {body: `{"kid":"k2"}`},
		"POST /keys/activate":     {status: http.StatusConflict, body: "no key is published as next; POST /keys/publish first"},
		"POST /keys/rotate-now":   {body: `{"kid":"k3"}`},
		"POST /keys/retire":       {body: `{"retired":["k1"]}`},
		"PUT /keys/cache-control": {body: keys},
		"POST /restart":           {body: `{"keys":[{"kid":"k9","alg":"RS256","state":"active"}],"cache_max_age":"1h0m0s"}`},
	})
	as := NewAS(url, nil)
	ks, err := as.Keys(ctx)
	if err != nil || len(ks.Keys) != 3 || ks.Keys[1] != (KeyInfo{KID: "k2", Alg: "RS256", State: KeyNext}) || ks.CacheMaxAge != time.Hour {
		t.Fatalf("Keys: %+v, %v", ks, err)
	}
	if a, ok := ks.Active(); !ok || a.KID != "k1" {
		t.Fatalf("Active: %+v %v", a, ok)
	}
	if p := ks.Published(); !reflect.DeepEqual(p, []string{"k1", "k2"}) {
		t.Fatalf("Published: %v", p)
	}
	kid, err := as.PublishKey(ctx)
	if err != nil || kid != "k2" {
		t.Fatalf("PublishKey: %q, %v", kid, err)
	}
	wantCall(t, f.last(t), "POST", "/keys/publish", nil)
	if _, err := as.ActivateKey(ctx); StatusOf(err) != http.StatusConflict || !strings.Contains(err.Error(), "POST /keys/publish first") {
		t.Fatalf("ActivateKey out of phase: %v", err)
	}
	kid, err = as.RotateNow(ctx, true)
	if err != nil || kid != "k3" {
		t.Fatalf("RotateNow: %q, %v", kid, err)
	}
	wantCall(t, f.last(t), "POST", "/keys/rotate-now", map[string]any{"remove_old": true})
	retired, err := as.RetireKey(ctx, "k1")
	if err != nil || !reflect.DeepEqual(retired, []string{"k1"}) {
		t.Fatalf("RetireKey: %v, %v", retired, err)
	}
	wantCall(t, f.last(t), "POST", "/keys/retire", map[string]any{"kid": "k1"})
	if _, err := as.SetJWKSCacheMaxAge(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	wantCall(t, f.last(t), "PUT", "/keys/cache-control", map[string]any{"max_age": "1h0m0s"})
	ks, err = as.Restart(ctx)
	if err != nil || len(ks.Keys) != 1 || ks.Keys[0].KID != "k9" {
		t.Fatalf("Restart: %+v, %v", ks, err)
	}
	wantCall(t, f.last(t), "POST", "/restart", nil)
}

func TestASSettings(t *testing.T) {
	f, url := newFake(t, map[string]answer{
		"GET /lifetimes":            {body: `{"access_token":"5m0s","refresh_idle":"30m0s","refresh_absolute":"8h0m0s"}`},
		"PUT /lifetimes":            {body: `{"access_token":"1m0s","refresh_idle":"30m0s","refresh_absolute":"3m0s"}`},
		"GET /refresh-policy":       {body: `{"rotation":true,"reuse_detection":true,"grace":"0s"}`},
		"PUT /refresh-policy":       {body: `{"rotation":true,"reuse_detection":false,"grace":"10s"}`},
		"POST /sessions/revoke":     {body: `{"grants_revoked":2,"sessions_ended":1}`},
		"POST /sessions/revoke-all": {body: `{"grants_revoked":5,"sessions_ended":3}`},
		"POST /next-authorization":  {body: `{"error":"access_denied"}`},
		"POST /token-policy":        {body: `{"audience":"another-api"}`},
		"POST /mint":                {body: `{"token":"eyJhbGciOiJub25lIn0.e30."}`},
	})
	as := NewAS(url, nil)

	l, err := as.Lifetimes(ctx)
	if err != nil || l != (Lifetimes{AccessToken: 5 * time.Minute, RefreshIdle: 30 * time.Minute, RefreshAbsolute: 8 * time.Hour}) {
		t.Fatalf("Lifetimes: %+v, %v", l, err)
	}
	l, err = as.SetLifetimes(ctx, Lifetimes{AccessToken: time.Minute, RefreshAbsolute: 3 * time.Minute})
	if err != nil || l.AccessToken != time.Minute || l.RefreshIdle != 30*time.Minute {
		t.Fatalf("SetLifetimes: %+v, %v", l, err)
	}
	wantCall(t, f.last(t), "PUT", "/lifetimes", map[string]any{"access_token": "1m0s", "refresh_absolute": "3m0s"})

	p, err := as.RefreshPolicy(ctx)
	if err != nil || p != (RefreshPolicy{Rotation: true, ReuseDetection: true}) {
		t.Fatalf("RefreshPolicy: %+v, %v", p, err)
	}
	p, err = as.SetRefreshPolicy(ctx, RefreshPolicy{Rotation: true, Grace: 10 * time.Second})
	if err != nil || p.Grace != 10*time.Second || p.ReuseDetection {
		t.Fatalf("SetRefreshPolicy: %+v, %v", p, err)
	}
	wantCall(t, f.last(t), "PUT", "/refresh-policy", map[string]any{"rotation": true, "reuse_detection": false, "grace": "10s"})

	r, err := as.RevokeSessions(ctx, "alice")
	if err != nil || r != (Revoked{Grants: 2, Sessions: 1}) {
		t.Fatalf("RevokeSessions: %+v, %v", r, err)
	}
	wantCall(t, f.last(t), "POST", "/sessions/revoke", map[string]any{"user": "alice"})
	if _, err := as.RevokeSessions(ctx, ""); err == nil {
		t.Fatal("RevokeSessions with no user accepted")
	}
	if r, err := as.RevokeAll(ctx); err != nil || r.Grants != 5 {
		t.Fatalf("RevokeAll: %+v, %v", r, err)
	}
	wantCall(t, f.last(t), "POST", "/sessions/revoke-all", nil)

	if err := as.SetNextAuthorization(ctx, NextAuthorization{Error: "access_denied"}); err != nil {
		t.Fatal(err)
	}
	wantCall(t, f.last(t), "POST", "/next-authorization", map[string]any{"error": "access_denied"})
	if err := as.SetNextAuthorization(ctx, NextAuthorization{}); err == nil {
		t.Fatal("empty next authorization accepted")
	}

	if aud, err := as.SetTokenAudience(ctx, "another-api"); err != nil || aud != "another-api" {
		t.Fatalf("SetTokenAudience: %q, %v", aud, err)
	}
	wantCall(t, f.last(t), "POST", "/token-policy", map[string]any{"audience": "another-api"})

	tok, err := as.Mint(ctx, MintRequest{Alg: "none", Claims: map[string]any{"exp": nil, "scope": "openid"}, Header: map[string]any{"kid": nil}})
	if err != nil || tok != "eyJhbGciOiJub25lIn0.e30." {
		t.Fatalf("Mint: %q, %v", tok, err)
	}
	wantCall(t, f.last(t), "POST", "/mint", map[string]any{
		"alg": "none", "claims": map[string]any{"exp": nil, "scope": "openid"}, "header": map[string]any{"kid": nil},
	})
}

func TestAPIEndpoints(t *testing.T) {
	state := `{"kids":["k1"],"fetches":3,"fetch_failures":1,"last_fetch":"2026-12-03T10:00:00Z","last_error":"","key_set_fetched_at":"2026-12-03T10:00:00Z"}`
	f, url := newFake(t, map[string]answer{
		"POST /restart":      {body: `{"kids":[],"fetches":0,"fetch_failures":0,"last_fetch":null,"last_error":"","key_set_fetched_at":null}`},
		"GET /jwks-cache":    {body: state},
		"POST /token-policy": {body: `{"issuer":"http://other.test"}`},
	})
	api := NewAPI(url, nil)
	st, err := api.Restart(ctx)
	if err != nil || len(st.Kids) != 0 || st.LastFetch != nil || st.KeySetFetchedAt != nil {
		t.Fatalf("Restart: %+v, %v", st, err)
	}
	wantCall(t, f.last(t), "POST", "/restart", nil)
	st, err = api.JWKSCache(ctx)
	if err != nil || st.Fetches != 3 || st.FetchFailures != 1 || st.Kids[0] != "k1" || st.LastFetch == nil {
		t.Fatalf("JWKSCache: %+v, %v", st, err)
	}
	if iss, err := api.SetExpectedIssuer(ctx, "http://other.test"); err != nil || iss != "http://other.test" {
		t.Fatalf("SetExpectedIssuer: %q, %v", iss, err)
	}
	wantCall(t, f.last(t), "POST", "/token-policy", map[string]any{"issuer": "http://other.test"})
	if api.BaseURL() != url {
		t.Fatalf("BaseURL %q", api.BaseURL())
	}
}

func TestSPAConfig(t *testing.T) {
	f, url := newFake(t, map[string]answer{
		"PUT /config":    {body: `{"scope":"xxx"}`},
		"DELETE /config": {body: `{"scope":"openid"}`},
	})
	spa := NewSPA(url, nil)
	if err := spa.SetScope(ctx, "xxx"); err != nil {
		t.Fatalf("SetScope: %v", err)
	}
	wantCall(t, f.last(t), "PUT", "/config", map[string]any{"scope": "xxx"})
	if err := spa.ResetConfig(ctx); err != nil {
		t.Fatalf("ResetConfig: %v", err)
	}
	wantCall(t, f.last(t), "DELETE", "/config", nil)

	_, refusing := newFake(t, map[string]answer{"PUT /config": {status: http.StatusBadRequest, body: "scope is empty"}})
	err := NewSPA(refusing, nil).SetScope(ctx, "")
	if StatusOf(err) != http.StatusBadRequest || !strings.Contains(err.Error(), "PUT "+refusing+"/config") || !strings.Contains(err.Error(), "scope is empty") {
		t.Fatalf("SetScope refused: %v; want a 400 naming the endpoint and the reason", err)
	}
}
