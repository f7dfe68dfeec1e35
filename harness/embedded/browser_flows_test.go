package embedded_test

// Browser flows against the real reference stack: the SPA bundle in headless
// Chromium, the zitadel-based AS and the API, every link through toxiproxy and
// the HTTP fault proxy. Each test starts a fresh stack and a fresh browser
// session; one Chromium serves the whole file.
//
// Chromium's host resolver rules are fixed at launch, but every stack listens
// on new ports. So TestMain maps the three host names to small TCP relays
// ("fronts") on stable loopback ports, and each test points the fronts at its
// own stack's links (st.HostRules()). The relays are transparent: toxiproxy and
// the fault proxy still see and shape every connection. A link taken down
// makes its front drop the browser's connection with a reset.
//
// To see a flow fail with a defect on, run for example
//
//	REHEARSAL_FLOW_DEFECTS=spa-no-retry-after-refresh go test ./harness/embedded -run TestFlowExpiredAccessTokenRefreshesOnce
//
// (comma-separated names; they are added to every stack the tests start).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"rehearsal/harness/browser"
	"rehearsal/harness/control"
	"rehearsal/harness/embedded"
	"rehearsal/harness/pages"
)

const chromiumPath = "/usr/bin/chromium-headless-shell"

var (
	sharedBrowser *browser.Browser
	skipBrowser   string
	fronts        = map[string]*front{} // by host name, e.g. app.rehearsal.test
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	// zitadel logs every route it registers through slog.Default.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if st, err := os.Stat(chromiumPath); err != nil || st.IsDir() {
		skipBrowser = fmt.Sprintf("browser flows need Chromium's headless shell at %s (make setup: apt-get install -y chromium-headless-shell): %v", chromiumPath, err)
		return m.Run()
	}
	rules := map[string]string{}
	for _, host := range []string{embedded.SPAHost, embedded.IssuerHost, embedded.APIHost} {
		f, err := newFront()
		if err != nil {
			fmt.Fprintln(os.Stderr, "browser flows:", err)
			return 1
		}
		defer f.close()
		fronts[host] = f
		rules[host+":80"] = f.addr()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	sharedBrowser, err = browser.Launch(ctx, browser.Options{ExecPath: chromiumPath, HostRules: rules})
	if err != nil {
		fmt.Fprintln(os.Stderr, "browser flows: launching Chromium:", err)
		return 1
	}
	code := m.Run()
	if err := sharedBrowser.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "browser flows: closing Chromium:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// front is a TCP relay on a stable loopback port whose upstream each test sets.
type front struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	conns  map[net.Conn]struct{}
}

func newFront() (*front, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for a front: %w", err)
	}
	f := &front{ln: ln, conns: map[net.Conn]struct{}{}}
	go f.serve()
	return f, nil
}

func (f *front) addr() string { return f.ln.Addr().String() }

func (f *front) close() {
	_ = f.ln.Close()
	f.point("")
}

// point sends new connections to target ("" refuses them) and drops the open ones.
func (f *front) point(target string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.target = target
	for c := range f.conns {
		_ = c.Close()
	}
	clear(f.conns)
}

func (f *front) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		go f.relay(c)
	}
}

func (f *front) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c == nil {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *front) untrack(cs ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cs {
		delete(f.conns, c)
		_ = c.Close()
	}
}

func (f *front) relay(c net.Conn) {
	f.mu.Lock()
	target := f.target
	f.mu.Unlock()
	reset := func() {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // a reset, as close to "refused" as an accepted connection gets
		}
		_ = c.Close()
	}
	if target == "" {
		reset()
		return
	}
	up, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		reset()
		return
	}
	f.track(c)
	f.track(up)
	defer f.untrack(c, up)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

// env is one test's stack, browser session and page objects.
type env struct {
	t    *testing.T
	ctx  context.Context
	st   *embedded.Stack
	sess *browser.Session
	tab  *browser.Tab
	ui   *pages.UI
}

// newEnv starts a fresh stack (with defects, plus REHEARSAL_FLOW_DEFECTS) and a
// fresh browser session pointed at it.
func newEnv(t *testing.T, defects ...string) *env {
	t.Helper()
	if skipBrowser != "" {
		t.Skip(skipBrowser)
	}
	for _, d := range strings.Split(os.Getenv("REHEARSAL_FLOW_DEFECTS"), ",") {
		if d = strings.TrimSpace(d); d != "" {
			defects = append(defects, d)
		}
	}
	if len(defects) > 0 {
		t.Logf("defects on: %s", strings.Join(defects, ", "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	st, err := embedded.Start(ctx, embedded.Options{Defects: defects})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(context.Background()); err != nil {
			t.Errorf("closing the stack: %v", err)
		}
	})
	rules := st.HostRules()
	for host, f := range fronts {
		target, ok := rules[host+":80"]
		if !ok {
			t.Fatalf("the stack has no host rule for %s (rules %v)", host, rules)
		}
		f.point(target)
	}
	t.Cleanup(func() {
		for _, f := range fronts {
			f.point("")
		}
	})
	sess, err := sharedBrowser.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, st: st, sess: sess, tab: sess.Tab(), ui: pages.New(nil)}
	t.Cleanup(func() {
		if t.Failed() {
			e.dumpConsole(e.tab)
		}
		if err := sess.Close(); err != nil {
			t.Errorf("closing the browser session: %v", err)
		}
	})
	return e
}

// dumpConsole logs the SPA's console lines of a tab, to tell a failure's story.
func (e *env) dumpConsole(tab *browser.Tab) {
	var b strings.Builder
	for _, c := range tab.Console() {
		fmt.Fprintf(&b, "\n  %s %s", c.Type, c.Text)
	}
	e.t.Logf("browser console:%s", b.String())
	e.t.Logf("link counters: %v", e.st.Network().Counters())
}

func (e *env) run(tab *browser.Tab, what string, actions ...pages.Action) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 15*time.Second)
	defer cancel()
	if err := tab.Run(ctx, actions...); err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

func (e *env) url(path string) string { return e.st.URLs().SPA + path }

// waitFor polls the tab's UI state (no sleeps beyond the poll interval) until
// cond holds, failing the test after within.
func (e *env) waitFor(tab *browser.Tab, what string, within time.Duration, cond func(pages.AppState) bool) pages.AppState {
	e.t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last pages.AppState
	var lastErr error
	for {
		ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
		last, lastErr = e.ui.State(ctx, tab)
		cancel()
		if lastErr == nil && cond(last) {
			return last
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("waiting %s for %s: last state %s, error %v", within, what, describeState(last), lastErr)
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("waiting for %s: %v", what, e.ctx.Err())
		case <-tick.C:
		}
	}
}

// hold checks that cond stays true for d, polling the tab's state.
func (e *env) hold(tab *browser.Tab, what string, d time.Duration, cond func(pages.AppState) bool) {
	e.t.Helper()
	end := time.Now().Add(d)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(end) {
		ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
		s, err := e.ui.State(ctx, tab)
		cancel()
		if err == nil && !cond(s) {
			e.t.Fatalf("during a %s hold, %s stopped holding: state %s", d, what, describeState(s))
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("holding %s: %v", what, e.ctx.Err())
		case <-tick.C:
		}
	}
}

func describeState(s pages.AppState) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{url %s ready=%v signedIn=%v signedOut=%v(%s) loading=%v asForm=%v",
		s.URL, s.Ready, s.SignedIn, s.SignedOut, s.SignedOutReason, s.Loading, s.OnASLoginForm)
	if s.BrowserError != "" {
		fmt.Fprintf(&b, " browserError=%s", s.BrowserError)
	}
	for _, p := range s.ErrorPanels {
		fmt.Fprintf(&b, " panel[%s id=%s: %s]", p.Code, p.ID, p.Message)
	}
	for name, v := range s.Views {
		fmt.Fprintf(&b, " %s=%s", name, v.State)
		if v.ErrorCode != "" {
			fmt.Fprintf(&b, "(%s)", v.ErrorCode)
		}
	}
	b.WriteString("}")
	return b.String()
}

// settled: the app is ready, nothing is in flight and no data view is loading.
func settled(s pages.AppState) bool {
	if !s.Ready || s.Loading {
		return false
	}
	for _, v := range s.Views {
		if v.State == "loading" {
			return false
		}
	}
	return true
}

// viewsIn reports whether every named view is present in state want.
func viewsIn(s pages.AppState, want string, views ...string) bool {
	for _, v := range views {
		if vs, ok := s.Views[v]; !ok || vs.State != want {
			return false
		}
	}
	return true
}

var companyViews = []string{pages.RoleMeView, pages.RoleCompanyView, pages.RoleTransactions}
var homeViews = []string{pages.RoleMeView, pages.RoleCompaniesView}

// signIn opens path signed out, clicks sign-in and signs in as alice on the AS
// form, then waits for the views of path to be ready.
func (e *env) signIn(tab *browser.Tab, path string, views []string) pages.AppState {
	e.t.Helper()
	e.run(tab, "open "+path, e.ui.Open(e.url(path)))
	e.waitFor(tab, "the signed-out view", 10*time.Second, func(s pages.AppState) bool { return s.Ready && s.SignedOut })
	e.run(tab, "click sign-in", e.ui.ClickSignIn())
	e.waitFor(tab, "the AS sign-in form", 10*time.Second, func(s pages.AppState) bool { return s.OnASLoginForm })
	e.run(tab, "sign in as alice", e.ui.SignInAs("alice", "alice-password"))
	s := e.waitFor(tab, "signed in with the views settled", 15*time.Second, func(s pages.AppState) bool {
		return s.SignedIn && s.Path == path && settled(s) && len(s.Views) > 0
	})
	if !viewsIn(s, "ready", views...) || s.ErrorPanel != nil || s.UserName != "Alice Liddell" {
		e.t.Fatalf("after sign-in at %s: want %v ready, no error panel, Alice Liddell; got %s", path, views, describeState(s))
	}
	return s
}

// expireAccessToken moves both servers' clocks past the access-token lifetime.
func (e *env) expireAccessToken(lifetime time.Duration) {
	d := lifetime + 30*time.Second
	e.st.ASClock.Advance(d)
	e.st.APIClock.Advance(d)
}

// shortLifetime sets a 60 s access-token lifetime before sign-in.
func (e *env) shortLifetime() time.Duration {
	e.t.Helper()
	l, err := e.st.AS().SetLifetimes(e.ctx, control.Lifetimes{AccessToken: 60 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	return l.AccessToken
}

func (e *env) count(link, key string) int { return e.st.Link(link).Count(key) }

// secretParams returns the code/state parameters a URL on the SPA origin
// carries (and a code anywhere).
func secretParams(spaOrigin, raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var bad []string
	q := u.Query()
	if q.Has("code") {
		bad = append(bad, "code")
	}
	if u.Scheme+"://"+u.Host == spaOrigin && q.Has("state") {
		bad = append(bad, "state")
	}
	return bad
}

// LGN-01: a deep link while signed out, sign-in on the AS form, back on the
// deep link with its data; no code or state left in the URL or the history.
func TestFlowDeepLinkSignIn(t *testing.T) {
	e := newEnv(t)
	tab := e.tab
	e.run(tab, "open the deep link", e.ui.Open(e.url("/companies/2")))
	s := e.waitFor(tab, "the signed-out view", 10*time.Second, func(s pages.AppState) bool { return s.Ready && s.SignedOut })
	if s.SignedOutReason != "none" || s.Path != "/companies/2" || s.SignedIn || s.ErrorPanel != nil {
		t.Fatalf("signed-out deep link: %s", describeState(s))
	}
	if n := e.count(embedded.LinkAS, "/authorize"); n != 0 {
		t.Fatalf("as:/authorize = %d before the click, want 0 (no redirect on load)", n)
	}

	e.run(tab, "click sign-in", e.ui.ClickSignIn())
	e.waitFor(tab, "the AS sign-in form", 10*time.Second, func(s pages.AppState) bool { return s.OnASLoginForm })
	var authorize []string
	for _, r := range e.st.Link(embedded.LinkAS).Requests() {
		if r.Path == "/authorize" {
			authorize = append(authorize, r.Query)
		}
	}
	if len(authorize) != 1 {
		t.Fatalf("authorize requests %q, want exactly one", authorize)
	}
	q, _ := url.ParseQuery(authorize[0])
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || !q.Has("state") || !q.Has("code_challenge") {
		t.Fatalf("authorize query %q: want response_type=code, code_challenge_method=S256, a code_challenge and a state", authorize[0])
	}

	e.run(tab, "sign in as alice", e.ui.SignInAs("alice", "alice-password"))
	s = e.waitFor(tab, "back on the deep link, signed in, views settled", 15*time.Second, func(s pages.AppState) bool {
		return s.SignedIn && settled(s) && len(s.Views) > 0
	})
	if s.Path != "/companies/2" {
		t.Fatalf("after sign-in the app is at %s, want /companies/2 (the deep link): %s", s.Path, describeState(s))
	}
	if !viewsIn(s, "ready", companyViews...) || s.ErrorPanel != nil {
		t.Fatalf("after sign-in: want %v ready and no error panel, got %s", companyViews, describeState(s))
	}
	if bad := secretParams(e.url(""), s.URL); len(bad) > 0 {
		t.Fatalf("the URL %s still holds %v", s.URL, bad)
	}
	h, err := tab.History(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range h.URLs {
		if bad := secretParams(e.url(""), u); len(bad) > 0 {
			t.Errorf("history entry %d of %v holds %v: %s", i, len(h.URLs), bad, browser.RedactURL(u))
		}
	}
	if n := e.count(embedded.LinkAS, "/token[authorization_code]"); n != 1 {
		t.Errorf("as:/token[authorization_code] = %d, want 1", n)
	}
}

// TOK-01: the access token expires; reload refreshes once and retries.
func TestFlowExpiredAccessTokenRefreshesOnce(t *testing.T) {
	e := newEnv(t)
	lifetime := e.shortLifetime()
	e.signIn(e.tab, "/companies/2", companyViews)
	authorize := e.count(embedded.LinkAS, "/authorize")
	e.expireAccessToken(lifetime)

	e.run(e.tab, "click reload", e.ui.ClickReload())
	s := e.waitFor(e.tab, "the views settled after reload", 15*time.Second, settled)
	if !s.SignedIn || !viewsIn(s, "ready", companyViews...) || s.ErrorPanel != nil {
		t.Fatalf("after an expired access token and reload: want signed in, %v ready, no error panel; got %s", companyViews, describeState(s))
	}
	if n := e.count(embedded.LinkAS, "/token[refresh_token]"); n != 1 {
		t.Errorf("as:/token[refresh_token] = %d, want exactly 1", n)
	}
	if n := e.count(embedded.LinkAS, "/authorize"); n != authorize {
		t.Errorf("as:/authorize went from %d to %d: the SPA went back to the AS", authorize, n)
	}
}

// AS-02 / TOK-03: sessions revoked at the AS; the next refresh gets
// invalid_grant and the SPA shows the signed-out view once, without a loop.
func TestFlowRevokedSessionSignsOut(t *testing.T) {
	e := newEnv(t)
	lifetime := e.shortLifetime()
	e.signIn(e.tab, "/companies/2", companyViews)
	if _, err := e.st.AS().RevokeSessions(e.ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	e.expireAccessToken(lifetime)

	e.run(e.tab, "click reload", e.ui.ClickReload())
	s := e.waitFor(e.tab, "the app settled after reload", 15*time.Second, func(s pages.AppState) bool {
		return settled(s) && (s.SignedOut || s.ErrorPanel != nil)
	})
	if !s.SignedOut || s.SignedOutReason != "session_ended" || s.SignedIn || s.ErrorPanel != nil {
		t.Fatalf("after a revoked session: want the signed-out view with reason session_ended and no error panel, got %s", describeState(s))
	}
	if n := e.count(embedded.LinkAS, "/token[refresh_token]"); n != 1 {
		t.Errorf("as:/token[refresh_token] = %d, want 1", n)
	}
	authorize := e.count(embedded.LinkAS, "/authorize")
	e.hold(e.tab, "the signed-out view with no trip to the AS", 3*time.Second, func(s pages.AppState) bool {
		return s.SignedOut && !s.OnASLoginForm && e.count(embedded.LinkAS, "/authorize") == authorize
	})
	if n := e.count(embedded.LinkAS, "/token[refresh_token]"); n != 1 {
		t.Errorf("as:/token[refresh_token] = %d after the hold, want still 1", n)
	}
}

// TOK-04: the refresh fails because the AS cannot be reached; the session is
// kept and retry after heal loads the data without a new sign-in.
func TestFlowRefreshFailureKeepsSession(t *testing.T) {
	e := newEnv(t)
	lifetime := e.shortLifetime()
	e.signIn(e.tab, "/companies/2", companyViews)
	authorize := e.count(embedded.LinkAS, "/authorize")
	codes := e.count(embedded.LinkAS, "/token[authorization_code]")
	e.expireAccessToken(lifetime)
	down, err := e.st.Link(embedded.LinkAS).Disable(e.ctx)
	if err != nil {
		t.Fatal(err)
	}

	e.run(e.tab, "click reload", e.ui.ClickReload())
	s := e.waitFor(e.tab, "the app settled with the AS down", 15*time.Second, func(s pages.AppState) bool {
		return settled(s) && (s.SignedOut || s.ErrorPanel != nil)
	})
	if s.SignedOut || !s.SignedIn || s.ErrorPanel == nil || s.ErrorPanel.Code != "token_refresh_failed" {
		t.Fatalf("refresh with the AS down: want still signed in with error panel token_refresh_failed, got %s", describeState(s))
	}
	apiCalls := e.count(embedded.LinkAPI, "/me")
	e.hold(e.tab, "signed in with the panel and no API loop", time.Second, func(s pages.AppState) bool {
		return s.SignedIn && !s.SignedOut && s.ErrorPanel != nil && e.count(embedded.LinkAPI, "/me") == apiCalls
	})

	if err := down.Remove(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.run(e.tab, "click retry", e.ui.ClickRetry())
	s = e.waitFor(e.tab, "the views after retry", 15*time.Second, settled)
	if !s.SignedIn || s.ErrorPanel != nil || !viewsIn(s, "ready", companyViews...) {
		t.Fatalf("after heal and retry: want signed in with no error panel, got %s", describeState(s))
	}
	if n := e.count(embedded.LinkAS, "/authorize"); n != authorize {
		t.Errorf("as:/authorize went from %d to %d: a new sign-in", authorize, n)
	}
	if n := e.count(embedded.LinkAS, "/token[authorization_code]"); n != codes {
		t.Errorf("as:/token[authorization_code] went from %d to %d: a new sign-in", codes, n)
	}
}

// NET-01: the API cannot be reached; each view shows connection_error, no
// refresh; reload after heal restores the data.
func TestFlowAPIDownShowsConnectionError(t *testing.T) {
	e := newEnv(t)
	e.signIn(e.tab, "/companies/2", companyViews)
	down, err := e.st.Link(embedded.LinkAPI).Disable(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.run(e.tab, "click reload", e.ui.ClickReload())
	s := e.waitFor(e.tab, "the views settled with the API down", 15*time.Second, func(s pages.AppState) bool {
		return settled(s) && (s.SignedOut || viewsIn(s, "error", companyViews...))
	})
	if s.SignedOut || !s.SignedIn {
		t.Fatalf("API down: want still signed in, got %s", describeState(s))
	}
	for _, v := range companyViews {
		if got := s.Views[v]; got.State != "error" || got.ErrorCode != "connection_error" {
			t.Errorf("view %s = %+v, want error connection_error", v, got)
		}
	}
	if len(s.ErrorPanels) != len(companyViews) {
		t.Errorf("%d error panels, want one per view (%d): %s", len(s.ErrorPanels), len(companyViews), describeState(s))
	}
	if n := e.count(embedded.LinkAS, "/token[refresh_token]"); n != 0 {
		t.Errorf("as:/token[refresh_token] = %d, want 0 (a network error never refreshes)", n)
	}
	if err := down.Remove(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.run(e.tab, "click reload", e.ui.ClickReload())
	s = e.waitFor(e.tab, "the views after heal and reload", 15*time.Second, settled)
	if !s.SignedIn || s.ErrorPanel != nil || !viewsIn(s, "ready", companyViews...) {
		t.Fatalf("after heal and reload: %s", describeState(s))
	}
}

// JWKS-05: a new signing key, the JWKS link down and a cold API cache: the API
// answers 503 key_source_unavailable, which the SPA shows without refreshing
// or signing out; after heal, retry loads the data.
func TestFlowKeySourceUnavailable(t *testing.T) {
	e := newEnv(t)
	lifetime := e.shortLifetime()
	e.signIn(e.tab, "/companies/2", companyViews)
	if _, err := e.st.AS().RotateNow(e.ctx, false); err != nil {
		t.Fatal(err)
	}
	down, err := e.st.Link(embedded.LinkJWKS).Disable(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.API().Restart(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.expireAccessToken(lifetime)
	refreshes := e.count(embedded.LinkAS, "/token[refresh_token]")

	e.run(e.tab, "click reload", e.ui.ClickReload())
	s := e.waitFor(e.tab, "the views settled with the JWKS down", 20*time.Second, func(s pages.AppState) bool {
		return settled(s) && (s.SignedOut || s.ErrorPanel != nil)
	})
	if s.SignedOut || !s.SignedIn {
		t.Fatalf("JWKS down: want still signed in, got %s", describeState(s))
	}
	for _, v := range companyViews {
		if got := s.Views[v]; got.State != "error" || got.ErrorCode != "key_source_unavailable" {
			t.Errorf("view %s = %+v, want error key_source_unavailable", v, got)
		}
	}
	if s.ErrorPanel == nil || s.ErrorPanel.Code != "key_source_unavailable" || s.ErrorPanel.ID == "" {
		t.Errorf("error panel %+v, want key_source_unavailable with the API's id", s.ErrorPanel)
	}
	if n := e.count(embedded.LinkAS, "/token[refresh_token]"); n != refreshes {
		t.Errorf("as:/token[refresh_token] went from %d to %d: a 503 must not refresh", refreshes, n)
	}

	if err := down.Remove(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.run(e.tab, "click retry", e.ui.ClickRetry())
	s = e.waitFor(e.tab, "the views after heal and retry", 20*time.Second, settled)
	if !s.SignedIn || s.SignedOut || s.ErrorPanel != nil || !viewsIn(s, "ready", companyViews...) {
		t.Fatalf("after heal and retry: want signed in, %v ready, no panel; got %s", companyViews, describeState(s))
	}
	if n := e.count(embedded.LinkAS, "/token[authorization_code]"); n != 1 {
		t.Errorf("as:/token[authorization_code] = %d, want 1 (no new sign-in)", n)
	}

	// JWKS-02 tail, cache now warm: an emergency rotation, then the next
	// refreshed token carries a kid the API has not seen; one refetch, data shown.
	if _, err := e.st.AS().RotateNow(e.ctx, false); err != nil {
		t.Fatal(err)
	}
	e.expireAccessToken(lifetime)
	refreshes = e.count(embedded.LinkAS, "/token[refresh_token]")
	jwks := e.count(embedded.LinkJWKS, "/keys")
	e.run(e.tab, "click reload", e.ui.ClickReload())
	s = e.waitFor(e.tab, "the views after a rotation with a warm cache", 15*time.Second, settled)
	if !s.SignedIn || s.ErrorPanel != nil || !viewsIn(s, "ready", companyViews...) {
		t.Fatalf("after a rotation with a warm cache: want signed in, %v ready, no panel; got %s", companyViews, describeState(s))
	}
	if n := e.count(embedded.LinkAS, "/token[refresh_token]"); n != refreshes+1 {
		t.Errorf("as:/token[refresh_token] went from %d to %d, want one refresh", refreshes, n)
	}
	if n := e.count(embedded.LinkJWKS, "/keys"); n != jwks+1 {
		t.Errorf("jwks:/keys went from %d to %d, want one refetch for the new kid", jwks, n)
	}
}

// OUT-01: sign-out in tab A with tab B open; both show the signed-out view.
func TestFlowSignOutReachesOtherTab(t *testing.T) {
	e := newEnv(t)
	a := e.tab
	e.signIn(a, "/", homeViews)
	b, err := e.sess.NewTab(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			e.dumpConsole(b)
		}
	})
	e.run(b, "open the app in tab B", e.ui.Open(e.url("/companies/2")))
	sb := e.waitFor(b, "tab B signed in with data", 15*time.Second, func(s pages.AppState) bool {
		return s.SignedIn && settled(s) && len(s.Views) > 0
	})
	if !viewsIn(sb, "ready", companyViews...) || sb.ErrorPanel != nil {
		t.Fatalf("tab B: %s", describeState(sb))
	}

	e.run(a, "click sign-out in tab A", e.ui.ClickSignOut())
	clicked := time.Now()
	sb = e.waitFor(b, "tab B on the signed-out view", 2*time.Second, func(s pages.AppState) bool { return s.Ready && s.SignedOut })
	t.Logf("tab B signed out %s after the click", time.Since(clicked).Round(time.Millisecond))
	if sb.SignedIn || sb.ErrorPanel != nil || len(sb.Views) != 0 {
		t.Errorf("tab B after sign-out in A: %s", describeState(sb))
	}
	// Tab A signs out locally first, then visits the AS's end-session
	// endpoint and comes back: wait for that round trip before looking.
	e.waitFor(a, "tab A's end-session request", 10*time.Second, func(pages.AppState) bool {
		return e.count(embedded.LinkAS, "/end_session") >= 1
	})
	sa := e.waitFor(a, "tab A back on the signed-out view", 10*time.Second, func(s pages.AppState) bool {
		return s.Ready && s.SignedOut && strings.HasPrefix(s.URL, e.url("/"))
	})
	if sa.SignedOutReason != "signed_out" || sa.SignedIn || sa.ErrorPanel != nil {
		t.Errorf("tab A after sign-out: want reason signed_out and no panel, got %s", describeState(sa))
	}
	if n := e.count(embedded.LinkAS, "/end_session"); n != 1 {
		t.Errorf("as:/end_session = %d, want 1", n)
	}
	me := e.count(embedded.LinkAPI, "/me")
	e.hold(b, "tab B signed out with no API calls", time.Second, func(s pages.AppState) bool {
		return s.SignedOut && e.count(embedded.LinkAPI, "/me") == me
	})
}
