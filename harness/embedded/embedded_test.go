package embedded

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"rehearsal/fixtures/authserver"
	"rehearsal/fixtures/spa"
)

// TestStackSignsInThroughTheLinks is the reference stack's acceptance check:
// discovery advertises S256 only, an authorize request without a challenge is
// refused, the API answers a token-less call with a bare Bearer challenge and
// CORS, and a scripted code + PKCE sign-in (form included) yields an access
// token the API accepts — every request crossing toxiproxy and the fault proxy.
func TestStackSignsInThroughTheLinks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	hc := s.HTTPClient()
	u := s.URLs()

	d, err := authserver.Discover(ctx, hc, u.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		Methods []string `json:"code_challenge_methods_supported"`
	}
	getJSON(t, hc, u.Issuer+"/.well-known/openid-configuration", &disc)
	if strings.Join(disc.Methods, ",") != "S256" {
		t.Errorf("discovery code_challenge_methods_supported = %v, want [S256] only", disc.Methods)
	}

	// No code_challenge: refused with invalid_request, never a code.
	noPKCE := d.AuthorizationEndpoint + "?response_type=code&client_id=rehearsal-spa&scope=openid&state=s1&redirect_uri=" + u.SPA + "/callback"
	resp, err := noRedirect(hc).Get(noPKCE)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=invalid_request") || strings.Contains(loc, "code=") {
		t.Errorf("authorize without code_challenge: status %d, Location %q; want a redirect with error=invalid_request and no code", resp.StatusCode, loc)
	}

	// No token: 401, bare Bearer challenge, CORS for the SPA origin.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.API+"/companies", nil)
	req.Header.Set("Origin", u.SPA)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != "Bearer" || resp.Header.Get("Access-Control-Allow-Origin") != u.SPA {
		t.Errorf("no token: status %d, WWW-Authenticate %q, ACAO %q; want 401, \"Bearer\", %q",
			resp.StatusCode, resp.Header.Get("WWW-Authenticate"), resp.Header.Get("Access-Control-Allow-Origin"), u.SPA)
	}

	tok, err := authserver.SignInWithPassword(ctx, hc, u.Issuer, "rehearsal-spa", u.SPA+"/callback", "alice", "alice-password",
		[]string{"openid", "profile", "offline_access", "api:read"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, u.API+"/companies", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("API with a fresh access token: %d %s", resp.StatusCode, body)
	}
	if n := s.Link(LinkJWKS).Count("/keys"); n != 1 {
		t.Errorf("jwks:/keys = %d after one validated call, want 1", n)
	}
	if n := s.Link(LinkAS).Count("/token[authorization_code]"); n != 1 {
		t.Errorf("token[authorization_code] count = %d, want 1 (counters: %v)", n, s.Link(LinkAS).Counters())
	}
}

func TestStackClosesItsListeners(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Link(LinkAPI).Addr()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("the api link %s still accepts connections after Close", addr)
	}
}

func TestStartRejectsUnknownDefects(t *testing.T) {
	_, err := Start(context.Background(), Options{Defects: []string{"api-no-audience-check", "made-up-defect"}})
	if err == nil || !strings.Contains(err.Error(), "made-up-defect") || !strings.Contains(err.Error(), "spa-deep-link-lost") {
		t.Fatalf("want an error naming the unknown defect and listing known ones, got %v", err)
	}
}

func noRedirect(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func getJSON(t *testing.T, hc *http.Client, url string, v any) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

func TestRenewGivesAFreshStackBehindTheSameLinks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	before, err := s.AS().Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AS().AdvanceClock(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	// The SPA's scope override (LGN-03 spa-scope) must not outlive its scenario.
	var served struct {
		Scope string `json:"scope"`
	}
	if err := s.SPA().SetScope(ctx, "xxx"); err != nil {
		t.Fatal(err)
	}
	getJSON(t, s.HTTPClient(), s.URLs().SPA+"/config.json", &served)
	if served.Scope != "xxx" {
		t.Fatalf("/config.json scope %q after SetScope through the SPA control plane, want xxx", served.Scope)
	}
	spaAddr := s.Link(LinkSPA).Addr()
	if err := s.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := s.AS().Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := before.Active()
	b, _ := after.Active()
	if a.KID == b.KID {
		t.Errorf("active kid %q survived Renew; want fresh keys", a.KID)
	}
	c, err := s.AS().Clock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Offset != 0 {
		t.Errorf("AS clock offset %v after Renew, want 0", c.Offset)
	}
	getJSON(t, s.HTTPClient(), s.URLs().SPA+"/config.json", &served)
	if served.Scope != spa.DefaultScope {
		t.Errorf("/config.json scope %q after Renew, want the configured %q", served.Scope, spa.DefaultScope)
	}
	if s.Link(LinkSPA).Addr() != spaAddr {
		t.Errorf("spa link moved from %s to %s", spaAddr, s.Link(LinkSPA).Addr())
	}
	resp, err := s.HTTPClient().Get(s.URLs().Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("discovery after Renew: %d", resp.StatusCode)
	}
}
