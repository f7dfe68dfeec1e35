package netfault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// upstream is a test server that counts what reached it.
type upstream struct {
	*httptest.Server
	hits     atomic.Int64
	mu       sync.Mutex
	lastHost string
	lastBody string
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.lastHost = r.Host
		u.lastBody = string(body)
		u.mu.Unlock()
		w.Header().Set("Access-Control-Allow-Origin", "http://app.rehearsal.test")
		w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate")
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("X-Fail") != "" {
			w.WriteHeader(http.StatusInternalServerError)
		}
		if c := r.Header.Get("Cookie"); c != "" {
			w.Header().Set("X-Saw-Cookie", "yes") // names the header, never echoes it
		}
		fmt.Fprintf(w, `{"path":%q,"keys":[{"kid":"a","kty":"RSA"}]}`, r.URL.Path)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) last() (host, body string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.lastHost, u.lastBody
}

func newNetwork(t *testing.T) *Network {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := NewNetwork(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return n
}

func newLink(t *testing.T, n *Network, name string) (*Link, *upstream) {
	t.Helper()
	u := newUpstream(t)
	l, err := n.AddLink(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	l.SetUpstream(u.Listener.Addr().String())
	return l, u
}

// fresh returns a client that opens a new connection per request, so each
// request meets the toxics in force when it starts.
func fresh(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
}

func get(c *http.Client, addr, path string) (*http.Response, string, error) {
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// eventually polls check until it returns nil or the bound passes.
func eventually(t *testing.T, bound time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(bound)
	var err error
	for {
		if err = check(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after %s: %v", bound, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustApply(t *testing.T) func(*Applied, error) *Applied {
	return func(a *Applied, err error) *Applied {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
}

func TestCountsRequestsByPathAndGrantTypeAndKeepsTheBody(t *testing.T) {
	n := newNetwork(t)
	l, u := newLink(t, n, "as")
	c := fresh(5 * time.Second)
	post := func(grant, contentType string) {
		t.Helper()
		body := url.Values{"grant_type": {grant}, "client_id": {"rehearsal-spa"}}.Encode()
		resp, err := c.Post("http://"+l.Addr()+"/token", contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if _, got := u.last(); got != body {
			t.Fatalf("upstream got body %q, want %q", got, body)
		}
	}
	post("refresh_token", "application/x-www-form-urlencoded;charset=UTF-8")
	post("refresh_token", "application/x-www-form-urlencoded")
	post("authorization_code", "application/x-www-form-urlencoded")
	if _, _, err := get(c, l.Addr(), "/authorize?code=x"); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodOptions, "http://"+l.Addr()+"/token", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	want := map[string]int{
		"/token": 3, "/token[refresh_token]": 2, "/token[authorization_code]": 1,
		"/authorize": 1, "OPTIONS /token": 1,
	}
	got := l.Counters()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("counter %q = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("counters %v, want exactly %v", got, want)
	}
	if all := n.Counters(); all["as:/token[refresh_token]"] != 2 || all["as:OPTIONS /token"] != 1 {
		t.Errorf("network counters %v", all)
	}
	l.ResetCounters()
	if l.Count("/token") != 0 {
		t.Errorf("after reset /token = %d", l.Count("/token"))
	}
}

func TestDisableRefusesConnectionsAndRemoveHeals(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "api")
	c := fresh(2 * time.Second)
	ctx := context.Background()

	down := mustApply(t)(l.Disable(ctx))
	if _, err := net.DialTimeout("tcp", l.Addr(), time.Second); err == nil {
		t.Fatal("dial succeeded while the link is down")
	} else if !isRefused(err) {
		t.Fatalf("dial while down: %v, want connection refused", err)
	}
	if err := down.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if err := down.Remove(ctx); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
	eventually(t, 3*time.Second, func() error {
		resp, _, err := get(c, l.Addr(), "/companies")
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

func TestOverlappingDisablesKeepTheLinkDownUntilTheLastIsRemoved(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "api")
	ctx := context.Background()
	a := mustApply(t)(l.Disable(ctx))
	b := mustApply(t)(l.Disable(ctx))
	if err := a.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", l.Addr(), time.Second); err == nil {
		t.Fatal("link up while one Disable is still applied")
	}
	if err := b.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := get(fresh(2*time.Second), l.Addr(), "/"); err != nil {
		t.Fatal(err)
	}
}

// healed removes a fault and checks that a request to path then succeeds.
func healed(t *testing.T, a *Applied, addr, path string) {
	t.Helper()
	if err := a.Remove(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := get(fresh(3*time.Second), addr, path); err != nil {
		t.Fatalf("after removing %q: %v", a.Description, err)
	}
}

func isRefused(err error) bool {
	return strings.Contains(err.Error(), "refused")
}

func TestResetPeerGivesTheClientAnError(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "api")
	ctx := context.Background()
	reset := mustApply(t)(l.AddToxic(ctx, ResetPeer(Downstream, 0)))
	if _, _, err := get(fresh(3*time.Second), l.Addr(), "/companies"); err == nil {
		t.Fatal("request succeeded through reset_peer")
	}
	healed(t, reset, l.Addr(), "/companies")
}

func TestLatencyIsMeasurable(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "as")
	ctx := context.Background()
	const lat = 300 * time.Millisecond
	slow := mustApply(t)(l.AddToxic(ctx, Latency(Downstream, lat, 0)))
	start := time.Now()
	if _, _, err := get(fresh(5*time.Second), l.Addr(), "/"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < lat {
		t.Fatalf("request took %s with %s latency", took, lat)
	}
	if err := slow.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, _, err := get(fresh(5*time.Second), l.Addr(), "/"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= lat {
		t.Fatalf("request took %s after the latency was removed", took)
	}
}

func TestBlackHoleMakesAClientTimeOut(t *testing.T) {
	n := newNetwork(t)
	l, u := newLink(t, n, "jwks")
	ctx := context.Background()
	hole := mustApply(t)(l.AddToxic(ctx, BlackHole(Upstream, 0)))
	start := time.Now()
	_, _, err := get(fresh(time.Second), l.Addr(), "/keys")
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("got %v, want a client timeout", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("client gave up after %s", took)
	}
	healed(t, hole, l.Addr(), "/keys")
	if u.hits.Load() != 1 {
		t.Fatalf("upstream saw %d requests, want only the one after heal", u.hits.Load())
	}

	// Downstream: the server handles the request, the answer never arrives
	// (a keep-alive client, so the server does not close the connection).
	hole = mustApply(t)(l.AddToxic(ctx, BlackHole(Downstream, 0)))
	keepAlive := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
	if _, _, err := get(keepAlive, l.Addr(), "/keys"); err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("downstream black hole: %v, want a client timeout", err)
	}
	if u.hits.Load() != 2 {
		t.Fatalf("upstream saw %d requests, want 2", u.hits.Load())
	}
	if err := hole.Remove(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBandwidthSlicerAndLimitData(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "jwks")
	ctx := context.Background()

	sliced := mustApply(t)(l.AddToxic(ctx, Slicer(Downstream, 5, 2, time.Millisecond)))
	_, body, err := get(fresh(5*time.Second), l.Addr(), "/keys")
	if err != nil || !strings.Contains(body, `"kid":"a"`) {
		t.Fatalf("sliced response: %q, %v; want the whole body", body, err)
	}
	_ = sliced.Remove(ctx)

	cut := mustApply(t)(l.AddToxic(ctx, LimitData(Downstream, 60)))
	if _, body, err := get(fresh(5*time.Second), l.Addr(), "/keys"); err == nil {
		t.Fatalf("limit_data let the whole answer through: %q", body)
	}
	_ = cut.Remove(ctx)

	if _, err := l.AddToxic(ctx, Toxic{Type: "latency", Attributes: map[string]any{"latncy": 1}}); err == nil {
		t.Fatal("misspelt attribute accepted")
	}
	if _, err := l.AddToxic(ctx, Toxic{Type: "lag"}); err == nil {
		t.Fatal("unknown toxic type accepted")
	}
}

func TestRespondAnswersMatchingPathOnly(t *testing.T) {
	n := newNetwork(t)
	l, u := newLink(t, n, "as")
	c := fresh(3 * time.Second)
	mustApply(t)(l.AddHTTPFault(HTTPFault{
		Match:   Match{Path: "/.well-known/openid-configuration"},
		Respond: &Response{Status: 503, Body: "down for maintenance", Headers: map[string]string{"Retry-After": "5"}},
	}))
	resp, body, err := get(c, l.Addr(), "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 || body != "down for maintenance" || resp.Header.Get("Retry-After") != "5" {
		t.Fatalf("got %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if u.hits.Load() != 0 {
		t.Fatal("upstream saw a request answered by the fault")
	}
	resp, _, err = get(c, l.Addr(), "/keys")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("other path: %v %v", resp, err)
	}
	if got := l.Count("/.well-known/openid-configuration"); got != 1 {
		t.Fatalf("faulted request counted %d times, want 1", got)
	}
}

func TestTimesLimitsAFaultToTheFirstMatches(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "as")
	c := fresh(3 * time.Second)
	once := mustApply(t)(l.AddHTTPFault(HTTPFault{
		Match: Match{Method: "POST", Path: "/token", GrantType: "refresh_token"}, Times: 1,
		Respond: &Response{Status: 500, CORS: true},
	}))
	statuses := []int{}
	for _, grant := range []string{"authorization_code", "refresh_token", "refresh_token"} {
		req, _ := http.NewRequest("POST", "http://"+l.Addr()+"/token", strings.NewReader("grant_type="+grant))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://app.rehearsal.test")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == 500 && resp.Header.Get("Access-Control-Allow-Origin") != "http://app.rehearsal.test" {
			t.Errorf("canned answer with CORS lacks Allow-Origin: %v", resp.Header)
		}
	}
	if fmt.Sprint(statuses) != "[200 500 200]" {
		t.Fatalf("statuses %v, want [200 500 200]", statuses)
	}
	if once.Hits() != 1 {
		t.Fatalf("Hits = %d", once.Hits())
	}
}

func TestDropResponseAfterTheUpstreamHandledTheRequest(t *testing.T) {
	n := newNetwork(t)
	l, u := newLink(t, n, "as")
	drop := mustApply(t)(l.AddHTTPFault(HTTPFault{Match: Match{Path: "/token"}, DropResponse: true}))
	_, err := fresh(3*time.Second).Post("http://"+l.Addr()+"/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=refresh_token"))
	if err == nil {
		t.Fatal("client got an answer to a dropped response")
	}
	if u.hits.Load() != 1 {
		t.Fatalf("upstream handled %d requests, want 1", u.hits.Load())
	}
	if _, body := u.last(); body != "grant_type=refresh_token" {
		t.Fatalf("upstream got body %q", body)
	}
	recs := l.Requests()
	if len(recs) != 1 || recs[0].Status != 200 || !strings.Contains(recs[0].Outcome, "dropped") {
		t.Fatalf("request log %+v", recs)
	}
	healed(t, drop, l.Addr(), "/token")
}

func TestStripCORSAndEditBody(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "api")
	c := fresh(3 * time.Second)
	strip := mustApply(t)(l.AddHTTPFault(HTTPFault{
		Match: Match{PathPrefix: "/api/"}, StripHeaderPrefixes: []string{CORSHeaderPrefix},
		SetHeaders: map[string]string{"X-Fault": "yes"},
	}))
	resp, _, err := get(c, l.Addr(), "/api/companies")
	if err != nil {
		t.Fatal(err)
	}
	for k := range resp.Header {
		if strings.HasPrefix(k, CORSHeaderPrefix) {
			t.Errorf("CORS header %s survived", k)
		}
	}
	if resp.Header.Get("X-Fault") != "yes" {
		t.Errorf("SetHeaders not applied: %v", resp.Header)
	}
	if err := strip.Remove(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, _, _ = get(c, l.Addr(), "/api/companies")
	if resp.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Error("CORS still stripped after Remove")
	}

	mustApply(t)(l.AddHTTPFault(HTTPFault{Match: Match{Path: "/keys"}, TruncateBody: 10, Times: 1}))
	mustApply(t)(l.AddHTTPFault(HTTPFault{Match: Match{Path: "/jwks"}, CorruptBody: true}))
	_, body, err := get(c, l.Addr(), "/keys")
	if err != nil || body != `{"path":"/` {
		t.Fatalf("truncated body %q, %v", body, err)
	}
	_, body, err = get(c, l.Addr(), "/jwks")
	if err != nil || !strings.Contains(body, "\x01") || strings.HasPrefix(body, "{") == false {
		t.Fatalf("corrupt body %q, %v", body, err)
	}
	if _, err := l.AddHTTPFault(HTTPFault{Match: Match{Path: "/x"}}); err == nil {
		t.Fatal("a fault with no action was accepted")
	}
}

func TestRequestHeadersAndResponseChangesOnErrorsOnly(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "api")
	c := fresh(3 * time.Second)
	mustApply(t)(l.AddHTTPFault(HTTPFault{Match: Match{PathPrefix: "/api/"}, StripHeaderPrefixes: []string{CORSHeaderPrefix}, MinStatus: 400}))
	resp, _, err := get(c, l.Addr(), "/api/ok")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Fatalf("a 200 lost its CORS headers under MinStatus 400: %d %v", resp.StatusCode, resp.Header)
	}
	mustApply(t)(l.AddHTTPFault(HTTPFault{Match: Match{Path: "/api/fail"}, AddRequestHeaders: map[string]string{"X-Fail": "1"}, Times: 1}))
	resp, _, err = get(c, l.Addr(), "/api/fail")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 500 {
		t.Fatalf("the added request header did not reach the upstream: status %d", resp.StatusCode)
	}
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("the 500 kept Access-Control-Allow-Origin %q under MinStatus 400", v)
	}
	if resp, _, _ = get(c, l.Addr(), "/api/fail"); resp.StatusCode != 200 {
		t.Errorf("Times 1 added the header again: status %d", resp.StatusCode)
	}
	if _, err := l.AddHTTPFault(HTTPFault{MinStatus: 400, Delay: time.Second}); err == nil {
		t.Error("MinStatus without a response change was accepted")
	}
}

func TestStripRequestHeadersKeepsThemFromTheUpstream(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "as")
	c := fresh(3 * time.Second)
	withCookie := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+l.Addr()+path, nil)
		req.Header.Set("Cookie", "session=opaque")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if withCookie("/authorize").Header.Get("X-Saw-Cookie") == "" {
		t.Fatal("the upstream saw no cookie before any fault: the test cannot tell stripping from nothing")
	}
	ap := mustApply(t)(l.AddHTTPFault(HTTPFault{Match: Match{Path: "/authorize"}, StripRequestHeaders: []string{"cookie"}}))
	if !strings.Contains(ap.Description, "strip request headers cookie") {
		t.Errorf("description %q does not say what the fault does", ap.Description)
	}
	if withCookie("/authorize").Header.Get("X-Saw-Cookie") != "" {
		t.Error("the cookie reached the upstream through a strip_request_headers fault")
	}
	if withCookie("/token").Header.Get("X-Saw-Cookie") == "" {
		t.Error("a request the fault does not match lost its cookie")
	}
	if _, err := l.AddHTTPFault(HTTPFault{StripRequestHeaders: []string{" "}}); err == nil {
		t.Error("an empty header name was accepted")
	}
}

func TestDelayHoldsTheRequest(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "as")
	mustApply(t)(l.AddHTTPFault(HTTPFault{Match: Match{Path: "/token"}, Delay: 200 * time.Millisecond}))
	start := time.Now()
	if _, _, err := get(fresh(3*time.Second), l.Addr(), "/token"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Fatalf("took %s", took)
	}
}

func TestHTTPClientRoutesHostNamesAndKeepsTheHostHeader(t *testing.T) {
	n := newNetwork(t)
	l, u := newLink(t, n, "api")
	c := n.HTTPClient(map[string]string{"api.rehearsal.test:80": "api", "login.rehearsal.test": "as"})
	resp, err := c.Get("http://api.rehearsal.test/api/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if host, _ := u.last(); host != "api.rehearsal.test" {
		t.Fatalf("upstream saw Host %q, want api.rehearsal.test", host)
	}
	if l.Count("/api/me") != 1 {
		t.Fatalf("counters %v", l.Counters())
	}
	if _, err := c.Get("http://login.rehearsal.test/"); err == nil || !strings.Contains(err.Error(), `link "as"`) {
		t.Fatalf("route to a missing link: %v", err)
	}
	if _, err := c.Get("http://example.com/"); err == nil || !strings.Contains(err.Error(), "no link for example.com:80") {
		t.Fatalf("unrouted host: %v", err)
	}
}

func TestBadGatewayWithoutOrWhenUpstreamIsDown(t *testing.T) {
	n := newNetwork(t)
	l, err := n.AddLink(context.Background(), "spa")
	if err != nil {
		t.Fatal(err)
	}
	resp, _, err := get(fresh(3*time.Second), l.Addr(), "/")
	if err != nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("no upstream: %v %v", resp, err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	l.SetUpstream(dead)
	resp, _, err = get(fresh(3*time.Second), l.Addr(), "/")
	if err != nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("upstream down: %v %v", resp, err)
	}
	if recs := l.Requests(); len(recs) != 2 || recs[1].Status != 502 || !strings.Contains(recs[1].Outcome, "upstream error") {
		t.Fatalf("request log %+v", recs)
	}
}

func TestRequestLogRedactsSecrets(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "spa")
	if _, _, err := get(fresh(3*time.Second), l.Addr(), "/callback?code=SECRETCODE&state=SECRETSTATE&lang=en"); err != nil {
		t.Fatal(err)
	}
	recs := l.Requests()
	if len(recs) != 1 {
		t.Fatalf("log %+v", recs)
	}
	q := recs[0].Query
	if strings.Contains(q, "SECRET") || !strings.Contains(q, "code="+Redacted+"%3A") || !strings.Contains(q, "lang=en") {
		t.Fatalf("query logged as %q", q)
	}
}

func TestEventsRecordAppliedAndRemoved(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "as")
	l2, _ := newLink(t, n, "api")
	ctx := context.Background()
	a := mustApply(t)(l.AddToxic(ctx, Latency(Downstream, 10*time.Millisecond, 0)))
	mustApply(t)(l2.AddHTTPFault(HTTPFault{Match: Match{Path: "/x"}, Respond: &Response{Status: 500}}))
	if err := a.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	ev := l.Events()
	if len(ev) != 1 || ev[0].Layer != LayerNetwork || ev[0].RemovedAt.IsZero() || ev[0].AppliedAt.After(ev[0].RemovedAt) {
		t.Fatalf("link events %+v", ev)
	}
	all := n.Events()
	if len(all) != 2 || all[1].Link != "api" || all[1].Layer != LayerHTTP || !all[1].RemovedAt.IsZero() {
		t.Fatalf("network events %+v", all)
	}
	if !strings.Contains(all[1].Description, "/x: respond 500") {
		t.Fatalf("description %q", all[1].Description)
	}
}

func TestCloseLeavesNoListeners(t *testing.T) {
	ctx := context.Background()
	n, err := NewNetwork(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	var applied []*Applied
	for _, name := range []string{"spa", "as", "api", "jwks"} {
		l, err := n.AddLink(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		applied = append(applied, mustApply(t)(l.AddToxic(ctx, Latency(Upstream, time.Millisecond, 0))))
		addrs = append(addrs, l.Addr(), l.FaultProxyAddr())
	}
	api, _ := url.Parse(n.ToxiproxyURL())
	addrs = append(addrs, api.Host)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, a := range addrs {
		eventually(t, 2*time.Second, func() error {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				return fmt.Errorf("%s still accepts connections", a)
			}
			if !isRefused(err) {
				return fmt.Errorf("dial %s: %v, want refused", a, err)
			}
			return nil
		})
	}
	for _, a := range applied {
		if err := a.Remove(ctx); err != nil {
			t.Fatalf("Remove after Close: %v", err)
		}
	}
	for _, e := range n.Events() {
		if e.RemovedAt.IsZero() {
			t.Errorf("event %+v not marked removed by Close", e)
		}
	}
	if _, err := n.AddLink(ctx, "late"); err == nil {
		t.Fatal("AddLink after Close succeeded")
	}
}

func TestManyLinksInParallel(t *testing.T) {
	n := newNetwork(t)
	const links, requests = 12, 5
	var wg sync.WaitGroup
	errs := make(chan error, links)
	for i := range links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			name := fmt.Sprintf("link-%d", i)
			l, err := n.AddLink(ctx, name)
			if err != nil {
				errs <- err
				return
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, name)
			}))
			defer srv.Close()
			l.SetUpstream(srv.Listener.Addr().String())
			a, err := l.AddToxic(ctx, Latency(Downstream, 5*time.Millisecond, 0))
			if err != nil {
				errs <- err
				return
			}
			c := &http.Client{Timeout: 5 * time.Second}
			for range requests {
				_, body, err := get(c, l.Addr(), "/ping")
				if err != nil || body != name {
					errs <- fmt.Errorf("%s: got %q, %v", name, body, err)
					return
				}
			}
			if err := a.Remove(ctx); err != nil {
				errs <- err
				return
			}
			if l.Count("/ping") != requests {
				errs <- fmt.Errorf("%s counted %d", name, l.Count("/ping"))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(n.Links()); got != links {
		t.Fatalf("%d links, want %d", got, links)
	}
	if _, err := n.AddLink(context.Background(), "link-0"); err == nil {
		t.Fatal("duplicate link name accepted")
	}
	if _, err := n.AddLink(context.Background(), "bad/name"); err == nil {
		t.Fatal("bad link name accepted")
	}
}

func TestSharedRemoteToxiproxyServer(t *testing.T) {
	// A second network driven only through the first one's API URL stands in
	// for a remote toxiproxy server: same names, no clashes, and closing it
	// leaves the other network's proxies alone.
	owner := newNetwork(t)
	mine, _ := newLink(t, owner, "as")
	remote, err := NewNetwork(context.Background(), Options{ToxiproxyURL: owner.ToxiproxyURL()})
	if err != nil {
		t.Fatal(err)
	}
	theirs, _ := newLink(t, remote, "as")
	if theirs.Addr() == mine.Addr() {
		t.Fatal("two links share one listener")
	}
	if _, _, err := get(fresh(3*time.Second), theirs.Addr(), "/"); err != nil {
		t.Fatal(err)
	}
	if err := remote.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := get(fresh(3*time.Second), mine.Addr(), "/"); err != nil {
		t.Fatalf("closing the other network broke this one: %v", err)
	}
	if _, err := NewNetwork(context.Background(), Options{ToxiproxyURL: "http://127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("unreachable toxiproxy: %v", err)
	}
}

func TestOnRequestArmsAFaultOnAnotherLinkBeforeTheRequestGoesOn(t *testing.T) {
	n := newNetwork(t)
	spa, _ := newLink(t, n, "spa")
	as, asUp := newLink(t, n, "as")
	ctx := context.Background()
	var hole *Applied
	fired := 0
	disarm, err := spa.OnRequest(Match{Path: "/callback"}, func() {
		fired++
		hole = mustApply(t)(as.AddToxic(ctx, BlackHole(Upstream, 0)))
	})
	if err != nil {
		t.Fatal(err)
	}

	// Before the trigger: the AS answers, other SPA paths do not fire it.
	if _, _, err := get(fresh(2*time.Second), as.Addr(), "/authorize"); err != nil {
		t.Fatalf("AS before the trigger: %v", err)
	}
	if _, _, err := get(fresh(2*time.Second), spa.Addr(), "/"); err != nil || fired != 0 {
		t.Fatalf("GET / fired the trigger (fired %d, err %v)", fired, err)
	}
	// The callback fires it once; the AS is black-holed from then on.
	for range 2 {
		if _, _, err := get(fresh(2*time.Second), spa.Addr(), "/callback"); err != nil {
			t.Fatalf("callback: %v", err)
		}
	}
	if fired != 1 {
		t.Fatalf("trigger fired %d times, want once", fired)
	}
	var ne net.Error
	if _, _, err := get(fresh(time.Second), as.Addr(), "/token"); err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("AS after the trigger: %v, want a client timeout", err)
	}
	if !disarm() {
		t.Fatal("disarm says the trigger never fired")
	}
	healed(t, hole, as.Addr(), "/token")
	if got := asUp.hits.Load(); got != 2 {
		t.Fatalf("AS upstream saw %d requests, want 2 (one before, one after heal)", got)
	}

	// Disarmed before any request: it never fires.
	disarm, err = spa.OnRequest(Match{Path: "/callback"}, func() { t.Error("a disarmed trigger fired") })
	if err != nil {
		t.Fatal(err)
	}
	if disarm() {
		t.Fatal("disarm says an unfired trigger fired")
	}
	if _, _, err := get(fresh(2*time.Second), spa.Addr(), "/callback"); err != nil {
		t.Fatal(err)
	}
}

func TestPathAliasesCountAndMatchUnderTheCatalogueName(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "as")
	l.SetPathAliases(map[string]string{"/realms/x/protocol/openid-connect/token": "/token"})
	fault := mustApply(t)(l.AddHTTPFault(HTTPFault{Match: Match{Path: "/token"}, Respond: &Response{Status: 503}}))
	defer fault.Remove(context.Background())
	resp, _, err := get(fresh(2*time.Second), l.Addr(), "/realms/x/protocol/openid-connect/token")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 {
		t.Fatalf("status %d, want the fault's 503 for the aliased path", resp.StatusCode)
	}
	if got := l.Count("/token"); got != 1 {
		t.Fatalf("/token counted %d, want 1 (counters %v)", got, l.Counters())
	}
	if recs := l.Requests(); len(recs) != 1 || recs[0].Path != "/token" {
		t.Fatalf("request log %+v, want one /token record", recs)
	}
}

func TestTCPLinkForwardsBytesAndRefusesHTTPFaults(t *testing.T) {
	n := newNetwork(t)
	u := newUpstream(t)
	l, err := n.AddTCPLink(context.Background(), "spa", u.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if l.HasHTTPLayer() {
		t.Fatal("a TCP link claims an HTTP layer")
	}
	if _, body, err := get(fresh(2*time.Second), l.Addr(), "/x"); err != nil || !strings.Contains(body, `"/x"`) {
		t.Fatalf("through the TCP link: %q, %v", body, err)
	}
	if _, err := l.AddHTTPFault(HTTPFault{Respond: &Response{Status: 500}}); err == nil || !strings.Contains(err.Error(), "no HTTP layer") {
		t.Fatalf("AddHTTPFault on a TCP link: %v, want a refusal", err)
	}
	if _, err := l.OnRequest(Match{}, func() {}); err == nil {
		t.Fatal("OnRequest on a TCP link did not fail")
	}
	down := mustApply(t)(l.Disable(context.Background()))
	if _, _, err := get(fresh(time.Second), l.Addr(), "/x"); !isRefused(err) {
		t.Fatalf("TCP link down: %v, want connection refused", err)
	}
	healed(t, down, l.Addr(), "/x")
}

// TestRequestLogFingerprintsTokenFields: the token fields of answers are
// replaced by a keyed fingerprint of the real value, so a refresh that
// rotated the refresh token shows two different values, one that did not
// shows the same value twice, and no raw token is kept.
func TestRequestLogFingerprintsTokenFields(t *testing.T) {
	n := newNetwork(t)
	answers := []string{"rt-first-0123456789", "rt-second-9876543210", "rt-second-9876543210"}
	var i atomic.Int64
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := i.Add(1) - 1
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		fmt.Fprintf(w, `{"access_token":"at-%d-abcdefgh","token_type":"Bearer","expires_in":300,"refresh_token":%q,"id_token":""}`, k, answers[k])
	}))
	t.Cleanup(as.Close)
	l, err := n.AddLink(context.Background(), "as")
	if err != nil {
		t.Fatal(err)
	}
	l.SetUpstream(as.Listener.Addr().String())
	c := fresh(3 * time.Second)
	for range answers {
		resp, err := c.PostForm("http://"+l.Addr()+"/token", url.Values{"grant_type": {"refresh_token"}})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	recs := l.Requests()
	if len(recs) != len(answers) {
		t.Fatalf("log %+v", recs)
	}
	var rts, ats []string
	for _, rec := range recs {
		b, _ := json.Marshal(rec)
		for _, raw := range append(answers, "abcdefgh") {
			if strings.Contains(string(b), raw) {
				t.Errorf("raw token %q kept in the record: %s", raw, b)
			}
		}
		rt, _ := rec.ResponseJSON["refresh_token"].(string)
		at, _ := rec.ResponseJSON["access_token"].(string)
		if !strings.HasPrefix(rt, Redacted+":") || !strings.HasPrefix(at, Redacted+":") {
			t.Errorf("token fields should read %s:<fingerprint>: %v", Redacted, rec.ResponseJSON)
		}
		if rec.ResponseJSON["token_type"] != "Bearer" || rec.ResponseJSON["id_token"] != "" {
			t.Errorf("other fields should be kept as they are: %v", rec.ResponseJSON)
		}
		rts, ats = append(rts, rt), append(ats, at)
	}
	if rts[0] == rts[1] {
		t.Errorf("two different refresh tokens logged the same: %v", rts)
	}
	if rts[1] != rts[2] {
		t.Errorf("the same refresh token logged differently: %v", rts)
	}
	if ats[0] == ats[1] || ats[1] == ats[2] {
		t.Errorf("different access tokens logged the same: %v", ats)
	}
}

func TestRedirectLocationKeepsNoCode(t *testing.T) {
	h := http.Header{"Location": {"http://app.rehearsal.test/callback?code=RAWCODE123&state=RAWSTATE456&iss=x#id_token=RAWIDTOKEN"}}
	got, _ := responseSummary(h, nil)
	loc := got["Location"]
	for _, raw := range []string{"RAWCODE123", "RAWSTATE456", "RAWIDTOKEN"} {
		if strings.Contains(loc, raw) {
			t.Errorf("Location kept %s: %s", raw, loc)
		}
	}
	if !strings.Contains(loc, "iss=x") || !strings.Contains(loc, "/callback") {
		t.Errorf("Location lost what is not secret: %s", loc)
	}
	again, _ := responseSummary(h, nil)
	if again["Location"] != loc {
		t.Errorf("the same code got another fingerprint: %s vs %s", again["Location"], loc)
	}
}

func TestOnTokenSeesTheTokensAnAnswerCarries(t *testing.T) {
	n := newNetwork(t)
	l, _ := newLink(t, n, "as")
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"AT-raw-value-1","refresh_token":"RT-raw-value-1","token_type":"Bearer"}`)
	}))
	t.Cleanup(tokenSrv.Close)
	l.SetUpstream(tokenSrv.Listener.Addr().String())
	var mu sync.Mutex
	seen := map[string]string{}
	n.OnToken(func(ts TokenSeen) {
		mu.Lock()
		defer mu.Unlock()
		if ts.Link != "as" || ts.Path != "/token" || ts.Time.IsZero() {
			t.Errorf("token seen without its place or time: %+v", ts)
		}
		seen[ts.Field] = ts.Value
	})
	if _, _, err := get(fresh(3*time.Second), l.Addr(), "/token"); err != nil {
		t.Fatal(err)
	}
	// The observer runs once the proxy has forwarded the answer, so the
	// client can read it first.
	eventually(t, 3*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if seen["access_token"] != "AT-raw-value-1" || seen["refresh_token"] != "RT-raw-value-1" || len(seen) != 2 {
			return fmt.Errorf("OnToken saw %v", seen)
		}
		return nil
	})
	mu.Lock()
	seen = map[string]string{}
	mu.Unlock()
	n.OnToken(nil)
	if _, _, err := get(fresh(3*time.Second), l.Addr(), "/token"); err != nil {
		t.Fatal(err)
	}
	// Wait for the request's record, written after the observer would run.
	eventually(t, 3*time.Second, func() error {
		if len(l.Requests()) < 2 {
			return fmt.Errorf("%d requests logged", len(l.Requests()))
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 0 {
		t.Errorf("OnToken(nil) did not stop the observer: %v", seen)
	}
}
