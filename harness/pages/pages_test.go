package pages_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"rehearsal/harness/browser"
	"rehearsal/harness/pages"
)

// A stand-in for the SPA and the AS sign-in page with the documented roles.
// The SPA keeps its "session" in localStorage; /login is the AS form.
const spaPage = `<!doctype html><html><head><title>fake spa</title>
<style>.hidden{display:none}</style></head><body>
<div data-testid="app">
  <header>
    <button data-testid="sign-in" class="hidden">Sign in</button>
    <button data-testid="sign-out" class="hidden">Sign out</button>
    <button data-testid="reload" class="hidden">Reload</button>
    <span data-testid="signed-in-user" class="hidden"></span>
  </header>
  <div data-testid="loading" class="hidden">Loading…</div>
  <section data-testid="signed-out-view" class="hidden"><button data-testid="sign-in">Sign in</button></section>
  <main id="views"></main>
</div>
<script>
const $ = (id) => document.querySelector('[data-testid="' + id + '"]');
const show = (el, on) => el.classList.toggle("hidden", !on);
function render(reason) {
  const user = localStorage.getItem("fake.user");
  show($("sign-out"), !!user); show($("reload"), !!user); show($("signed-in-user"), !!user);
  show(document.querySelector('header [data-testid="sign-in"]'), !user);
  show($("signed-out-view"), !user);
  $("signed-out-view").dataset.reason = reason || "none";
  const views = document.getElementById("views");
  views.innerHTML = "";
  if (!user) return;
  $("signed-in-user").textContent = "Alice Liddell";
  $("signed-in-user").dataset.sub = "alice";
  views.innerHTML =
    '<div data-testid="me-view" data-state="ready">me</div>' +
    '<div data-testid="companies-view" data-state="ready">' +
    '<div data-testid="company-item" data-company-id="1">A</div><div data-testid="company-item" data-company-id="2">B</div></div>' +
    '<div data-testid="transactions-view" data-state="error" data-error-code="server_error">' +
    '<div data-testid="error-panel" data-code="server_error"><span data-testid="error-code">server_error</span>' +
    '<span data-testid="error-id">01JERR</span><span data-testid="error-message">The server failed.</span>' +
    '<button data-testid="error-retry">Retry</button></div></div>';
  $("error-retry").onclick = () => {
    const v = $("transactions-view"); v.dataset.state = "loading"; v.innerHTML = "";
    show($("loading"), true); $("reload").disabled = true; $("sign-out").disabled = true;
  };
}
document.querySelectorAll('[data-testid="sign-in"]').forEach(b => b.onclick = () => { location.href = "/login"; });
$("sign-out").onclick = () => { localStorage.removeItem("fake.user"); render("signed_out"); };
$("reload").onclick = () => { console.log("reload clicked"); };
render();
$("app").dataset.ready = "true";
</script></body></html>`

const loginPage = `<!doctype html><html><body>
<form data-testid="as-login-form" onsubmit="return go(event)">
  <input data-testid="as-username" name="u"><input data-testid="as-password" name="p" type="password">
  <button data-testid="as-submit" type="submit">Sign in</button>
</form>
<p data-testid="as-login-error" style="display:none">Invalid username or password.</p>
<script>
function go(ev) {
  ev.preventDefault();
  const u = document.querySelector('[data-testid="as-username"]').value;
  const p = document.querySelector('[data-testid="as-password"]').value;
  if (u === "alice" && p === "alice-password") {
    localStorage.setItem("fake.user", "alice");
    location.href = "/";
  } else {
    document.querySelector('[data-testid="as-login-error"]').style.display = "block";
  }
  return false;
}
</script></body></html>`

const asErrorPage = `<!doctype html><html><body><div data-testid="as-error">invalid_request: redirect_uri mismatch</div></body></html>`

var (
	shared *browser.Browser
	srvURL string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	mux := http.NewServeMux()
	serve := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, body)
		}
	}
	mux.HandleFunc("/", serve(spaPage))
	mux.HandleFunc("/login", serve(loginPage))
	mux.HandleFunc("/as-error", serve(asErrorPage))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	srvURL = srv.URL

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	if shared, err = browser.Launch(ctx, browser.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return 1
	}
	code := m.Run()
	if err := shared.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
		return 1
	}
	return code
}

func newTab(t *testing.T) (*browser.Tab, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	s, err := shared.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing the session: %v", err)
		}
	})
	return s.Tab(), ctx
}

// waitState polls State every 20ms until cond holds or 10s pass, like
// Eventually(func(ctx) (AppState, error)) in a spec.
func waitState(t *testing.T, ctx context.Context, ui *pages.UI, tab *browser.Tab, what string, cond func(pages.AppState) bool) pages.AppState {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last pages.AppState
	var lastErr error
	for {
		last, lastErr = ui.State(ctx, tab)
		if lastErr == nil && cond(last) {
			return last
		}
		select {
		case <-deadline.C:
			t.Fatalf("waiting for %s: last state %+v, error %v", what, last, lastErr)
		case <-tick.C:
		}
	}
}

func TestSignInFlowThroughRolesAndState(t *testing.T) {
	ui := pages.New(nil)
	tab, ctx := newTab(t)
	if err := tab.Run(ctx, ui.Open(srvURL+"/")); err != nil {
		t.Fatal(err)
	}
	s := waitState(t, ctx, ui, tab, "signed-out view", func(s pages.AppState) bool { return s.Ready && s.SignedOut })
	if s.SignedIn || s.SignedOutReason != "none" || s.Path != "/" || s.Title != "fake spa" || s.ErrorPanel != nil || len(s.Views) != 0 {
		t.Fatalf("signed-out state %+v", s)
	}
	if b := s.Buttons[pages.RoleSignIn]; !b.Visible || !b.Enabled {
		t.Fatalf("sign-in button %+v", b)
	}
	if b := s.Buttons[pages.RoleSignOut]; b.Visible {
		t.Fatalf("sign-out button visible while signed out: %+v", b)
	}

	if err := tab.Run(ctx, ui.ClickSignIn()); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, ui, tab, "AS sign-in form", func(s pages.AppState) bool { return s.OnASLoginForm })
	if err := tab.Run(ctx, ui.SignInAs("alice", "wrong")); err != nil {
		t.Fatal(err)
	}
	s = waitState(t, ctx, ui, tab, "AS login error", func(s pages.AppState) bool { return s.ASLoginError != "" })
	if !s.OnASLoginForm || !strings.Contains(s.ASLoginError, "Invalid") || s.Ready {
		t.Fatalf("AS state %+v", s)
	}
	// SignInAs clears what was typed before.
	if err := tab.Run(ctx, ui.SignInAs("alice", "alice-password")); err != nil {
		t.Fatal(err)
	}
	s = waitState(t, ctx, ui, tab, "signed in", func(s pages.AppState) bool { return s.SignedIn })
	if s.UserName != "Alice Liddell" || s.UserSub != "alice" || s.SignedOut || !s.Ready {
		t.Fatalf("signed-in state %+v", s)
	}
	if v := s.Views[pages.RoleCompaniesView]; v.State != "ready" || v.Items != 2 || !v.Visible {
		t.Fatalf("companies view %+v", v)
	}
	if v := s.Views[pages.RoleTransactions]; v.State != "error" || v.ErrorCode != "server_error" {
		t.Fatalf("transactions view %+v", v)
	}
	if s.ErrorPanel == nil || *s.ErrorPanel != (pages.ErrorPanel{Code: "server_error", ID: "01JERR", Message: "The server failed."}) {
		t.Fatalf("error panel %+v", s.ErrorPanel)
	}

	if err := tab.Run(ctx, ui.ClickRetry()); err != nil {
		t.Fatal(err)
	}
	s = waitState(t, ctx, ui, tab, "loading after retry", func(s pages.AppState) bool { return s.Loading })
	if s.ErrorPanel != nil || s.Views[pages.RoleTransactions].State != "loading" ||
		s.Buttons[pages.RoleReload].Enabled || s.Buttons[pages.RoleSignOut].Enabled || !s.Buttons[pages.RoleSignOut].Present {
		t.Fatalf("after retry %+v", s)
	}

	// Reload and sign-out are disabled: a click lands but does nothing.
	if err := tab.Run(ctx, ui.ClickReload()); err != nil {
		t.Fatal(err)
	}
	for _, e := range tab.Console() {
		if e.Text == "reload clicked" {
			t.Fatal("a disabled reload button reacted")
		}
	}
	if err := tab.Run(ctx, browserEval(`document.querySelectorAll("button").forEach(b => b.disabled = false)`)); err != nil {
		t.Fatal(err)
	}
	if err := tab.Run(ctx, ui.ClickReload()); err != nil {
		t.Fatal(err)
	}
	waitConsole(t, tab, "reload clicked")

	if err := tab.Run(ctx, ui.ClickSignOut()); err != nil {
		t.Fatal(err)
	}
	s = waitState(t, ctx, ui, tab, "signed out", func(s pages.AppState) bool { return s.SignedOut })
	if s.SignedOutReason != "signed_out" || s.SignedIn {
		t.Fatalf("after sign-out %+v", s)
	}
}

func TestStateOnASErrorAndChromiumErrorPages(t *testing.T) {
	ui := pages.New(nil)
	tab, ctx := newTab(t)
	if err := tab.Run(ctx, ui.Open(srvURL+"/as-error")); err != nil {
		t.Fatal(err)
	}
	s, err := ui.State(ctx, tab)
	if err != nil {
		t.Fatal(err)
	}
	if !s.ASError || !strings.Contains(s.ASErrorText, "invalid_request") || s.Ready || s.SignedIn || s.SignedOut {
		t.Fatalf("AS error state %+v", s)
	}

	// A port nothing listens on: Chromium shows its own error page.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/"
	l.Close()
	if err := tab.Run(ctx, ui.Open(closed)); err == nil {
		t.Fatal("opening a closed port succeeded")
	}
	s = waitState(t, ctx, ui, tab, "Chromium error page", func(s pages.AppState) bool { return s.BrowserError != "" })
	if !strings.Contains(s.BrowserError, "ERR_CONNECTION_REFUSED") || s.Ready {
		t.Fatalf("error page state %+v", s)
	}
}

func TestRoleOverrides(t *testing.T) {
	ui := pages.New(pages.Roles{pages.RoleSignedInUser: "#who", pages.RoleApp: "main.app"})
	if got := ui.Selector(pages.RoleSignedInUser); got != "#who" {
		t.Fatalf("override: %s", got)
	}
	if got := ui.Selector(pages.RoleReload); got != `[data-testid="reload"]` {
		t.Fatalf("default: %s", got)
	}
	tab, ctx := newTab(t)
	if err := tab.Run(ctx, ui.Open(`data:text/html,<main class="app" data-ready="true"><b id="who" data-sub="bob">Bob Builder</b></main>`)); err != nil {
		t.Fatal(err)
	}
	s, err := ui.State(ctx, tab)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Ready || !s.SignedIn || s.UserName != "Bob Builder" || s.UserSub != "bob" {
		t.Fatalf("state with overrides %+v", s)
	}
}

func TestClickRoleHonoursTheSpecDeadline(t *testing.T) {
	ui := pages.New(nil)
	tab, ctx := newTab(t)
	if err := tab.Run(ctx, ui.Open(srvURL+"/")); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	// sign-out is hidden while signed out: the click waits, then gives up.
	if err := tab.Run(short, ui.ClickSignOut()); err == nil {
		t.Fatal("clicking a hidden button succeeded")
	}
	if _, err := ui.State(ctx, tab); err != nil {
		t.Fatalf("tab unusable after a timed-out click: %v", err)
	}
}

func browserEval(expr string) pages.Action {
	return chromedp.Evaluate[chromedp.Void](expr)
}

func waitConsole(t *testing.T, tab *browser.Tab, text string) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, e := range tab.Console() {
			if e.Text == text {
				return
			}
		}
		select {
		case <-deadline.C:
			t.Fatalf("console never showed %q: %+v", text, tab.Console())
		case <-tick.C:
		}
	}
}
