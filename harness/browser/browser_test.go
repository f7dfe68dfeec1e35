package browser_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"rehearsal/harness/browser"
)

// One browser for the package, as in a Ginkgo process; a fresh session per test.
var (
	shared  *browser.Browser
	appURL  string // http://app.rehearsal.test reached through HostRules
	rawURL  string // the same server at 127.0.0.1:port
	apiHits = make(chan string, 100)
)

const page = `<!doctype html><html><head><title>t</title></head><body>
<div data-testid="app" data-ready="true"><button id="b" onclick="this.textContent='clicked'">click me</button></div>
</body></html>`

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("REHEARSAL_BROWSER_HELPER") != "" {
		helperLaunch()
		return 0
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		select {
		case apiHits <- r.URL.RawQuery:
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	rawURL = srv.URL
	host := strings.TrimPrefix(srv.URL, "http://")
	appURL = "http://app.rehearsal.test"

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	shared, err = browser.Launch(ctx, browser.Options{
		HostRules: map[string]string{"app.rehearsal.test:80": host},
	})
	if err != nil {
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

// newTab opens a session for one test and closes it afterwards.
func newTab(t *testing.T) (*browser.Session, *browser.Tab, context.Context) {
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
	return s, s.Tab(), ctx
}

// eventually polls cond every 20ms until it holds or the bound passes.
func eventually(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("after %v: %s", bound, what)
		case <-tick.C:
		}
	}
}

func eval[T any](t *testing.T, ctx context.Context, tab *browser.Tab, expr string) T {
	t.Helper()
	v, err := browser.RunValue(ctx, tab, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

func TestLaunchReportsMissingChromium(t *testing.T) {
	_, err := browser.Launch(context.Background(), browser.Options{ExecPath: "/nonexistent/chromium"})
	if err == nil || !strings.Contains(err.Error(), "Chromium not found at /nonexistent/chromium: run `make setup`") {
		t.Fatalf("want the setup hint, got %v", err)
	}
}

func TestHostRulesReachTheLocalServer(t *testing.T) {
	_, tab, ctx := newTab(t)
	if err := tab.Navigate(ctx, appURL+"/"); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, tab, `location.origin`); got != appURL {
		t.Fatalf("origin %q, want %q", got, appURL)
	}
	dom, err := tab.DOM(ctx)
	if err != nil || !strings.Contains(dom, `data-testid="app"`) {
		t.Fatalf("DOM %q, %v", dom, err)
	}
	png, err := tab.Screenshot(ctx)
	if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot: %d bytes, %v", len(png), err)
	}
}

func TestRunDeadlineStopsTheActionNotTheTab(t *testing.T) {
	_, tab, ctx := newTab(t)
	if err := tab.Navigate(ctx, appURL+"/"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err := tab.Run(short, chromedp.WaitVisible(chromedp.CSS("#never-there")))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a deadline error, got %v", err)
	}
	cancelled, cancel2 := context.WithCancel(ctx)
	cancel2()
	if err := tab.Run(cancelled, chromedp.WaitVisible(chromedp.CSS("#never-there"))); !errors.Is(err, context.Canceled) {
		t.Fatalf("want a cancellation error, got %v", err)
	}
	// The tab still works.
	if err := tab.Run(ctx, chromedp.Click(chromedp.CSS("#b"))); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, tab, `document.getElementById("b").textContent`); got != "clicked" {
		t.Fatalf("button text %q", got)
	}
}

func TestConsoleRecordsMessagesAndExceptions(t *testing.T) {
	_, tab, ctx := newTab(t)
	if err := tab.Navigate(ctx, appURL+"/"); err != nil {
		t.Fatal(err)
	}
	if err := tab.Run(ctx, chromedp.Evaluate[chromedp.Void](`console.log("hello", 42); console.error("bad thing"); setTimeout(() => { throw new Error("boom") }, 0)`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "console holds log, error and exception", func() bool {
		var log, errLine, exc bool
		for _, e := range tab.Console() {
			log = log || (e.Type == "log" && e.Text == "hello 42")
			errLine = errLine || (e.Type == "error" && e.Text == "bad thing")
			exc = exc || (e.Type == "exception" && strings.Contains(e.Text, "boom"))
		}
		return log && errLine && exc
	})
	for _, e := range tab.Console() {
		if e.Time.IsZero() {
			t.Errorf("entry without time: %+v", e)
		}
	}
}

func TestNetworkLogRedactsSecretsAndRecordsFailures(t *testing.T) {
	_, tab, ctx := newTab(t)
	if err := tab.Navigate(ctx, appURL+"/"); err != nil {
		t.Fatal(err)
	}
	status := eval[int](t, ctx, tab, `fetch("/api?code=c0de&state=s7ate&page=2#access_token=tok").then(r => r.status)`)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	heal, err := tab.BlockURLs(ctx, "*://app.rehearsal.test/api*")
	if err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, tab, `fetch("/api?blocked=1").then(r => "ok", e => "failed")`); got != "failed" {
		t.Fatalf("blocked fetch: %s", got)
	}
	if err := heal(ctx); err != nil {
		t.Fatal(err)
	}
	if err := heal(ctx); err != nil { // idempotent
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, tab, `fetch("/api?healed=1").then(r => "ok", e => "failed")`); got != "ok" {
		t.Fatalf("healed fetch: %s", got)
	}

	var doc, secret, blocked, healed *browser.NetworkEntry
	eventually(t, 5*time.Second, "network log holds the four requests, finished", func() bool {
		doc, secret, blocked, healed = nil, nil, nil, nil
		entries := tab.Network()
		for i := range entries {
			e := &entries[i]
			switch {
			case e.ResourceType == "Document":
				doc = e
			case strings.Contains(e.URL, "page=2"):
				secret = e
			case strings.Contains(e.URL, "blocked=1"):
				blocked = e
			case strings.Contains(e.URL, "healed=1"):
				healed = e
			}
		}
		return doc != nil && secret != nil && blocked != nil && healed != nil &&
			!secret.InFlight() && !blocked.InFlight() && !healed.InFlight()
	})
	if doc.Status != 200 || doc.Method != "GET" {
		t.Errorf("document entry %+v", *doc)
	}
	if strings.Contains(secret.URL, "c0de") || strings.Contains(secret.URL, "s7ate") ||
		!strings.Contains(secret.URL, "code=REDACTED") || !strings.Contains(secret.URL, "state=REDACTED") {
		t.Errorf("secrets not redacted: %s", secret.URL)
	}
	if secret.Status != 200 || secret.Ended.Before(secret.Started) || time.Since(secret.Started) > time.Minute {
		t.Errorf("secret entry times/status: %+v", *secret)
	}
	if blocked.Failure == "" || blocked.Status != 0 || blocked.Blocked == "" {
		t.Errorf("blocked entry: %+v", *blocked)
	}
	if healed.Status != 200 || healed.Failure != "" {
		t.Errorf("healed entry: %+v", *healed)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://a/cb?code=x&state=y&iss=http%3A%2F%2Fl":                             "http://a/cb?code=REDACTED&state=REDACTED&iss=http%3A%2F%2Fl",
		"http://a/#id_token=x&x=1":                                                  "http://a/#id_token=REDACTED&x=1",
		"http://l/end?id_token_hint=eyJ&post_logout_redirect_uri=http%3A%2F%2Fa%2F": "http://l/end?id_token_hint=REDACTED&post_logout_redirect_uri=http%3A%2F%2Fa%2F",
		"http://a/companies/2":                                                      "http://a/companies/2",
	} {
		if got := browser.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOfflineAndHeal(t *testing.T) {
	_, tab, ctx := newTab(t)
	if err := tab.Navigate(ctx, appURL+"/"); err != nil {
		t.Fatal(err)
	}
	heal, err := tab.SetOffline(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, tab, `fetch("/api?offline=1").then(r => "ok", e => "failed:" + navigator.onLine)`); got != "failed:false" {
		t.Fatalf("offline fetch: %s", got)
	}
	if err := heal(ctx); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, tab, `fetch("/api?online=1").then(r => "ok:" + navigator.onLine, e => "failed")`); got != "ok:true" {
		t.Fatalf("online fetch: %s", got)
	}
	eventually(t, 5*time.Second, "offline failure recorded", func() bool {
		for _, e := range tab.Network() {
			if strings.Contains(e.URL, "offline=1") && strings.Contains(e.Failure, "INTERNET_DISCONNECTED") {
				return true
			}
		}
		return false
	})
}

func TestShiftClockSurvivesNavigationAndHeals(t *testing.T) {
	_, tab, ctx := newTab(t)
	if err := tab.Navigate(ctx, appURL+"/"); err != nil {
		t.Fatal(err)
	}
	const skew = `(Date.now() - performance.timeOrigin - performance.now()) / 1000`
	heal, err := tab.ShiftClock(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	within := func(got, want float64) bool { return got > want-5 && got < want+5 }
	if got := eval[float64](t, ctx, tab, skew); !within(got, 3600) {
		t.Fatalf("skew in the current document %.1fs, want 3600", got)
	}
	if got := eval[float64](t, ctx, tab, `(new Date().getTime() - Date.now()) / 1000`); !within(got, 0) {
		t.Fatalf("new Date() and Date.now() disagree by %.1fs", got)
	}
	if got := eval[bool](t, ctx, tab, `new Date(0).getTime() === 0 && new Date() instanceof Date && Date.UTC(1970,0,1) === 0`); !got {
		t.Fatal("Date with arguments or instanceof broken")
	}
	if err := tab.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := eval[float64](t, ctx, tab, skew); !within(got, 3600) {
		t.Fatalf("skew after reload %.1fs, want 3600", got)
	}
	if err := heal(ctx); err != nil {
		t.Fatal(err)
	}
	if got := eval[float64](t, ctx, tab, skew); !within(got, 0) {
		t.Fatalf("skew after heal %.1fs, want 0", got)
	}
	if err := tab.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := eval[float64](t, ctx, tab, skew); !within(got, 0) {
		t.Fatalf("skew after heal and reload %.1fs, want 0", got)
	}
}

func TestThirdPartyCookieRestrictionIsAccepted(t *testing.T) {
	_, tab, ctx := newTab(t)
	heal, err := tab.BlockThirdPartyCookies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := heal(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestTokenStorageTampering(t *testing.T) {
	s, tab, ctx := newTab(t)
	if err := tab.Navigate(ctx, appURL+"/"); err != nil {
		t.Fatal(err)
	}
	if err := tab.ExpireStoredAccessToken(ctx); err == nil || !strings.Contains(err.Error(), "no oidc-client-ts user") {
		t.Fatalf("want a clear error without a user, got %v", err)
	}
	const key = "oidc.user:http://login.rehearsal.test:rehearsal-spa"
	future := time.Now().Add(time.Hour).Unix()
	if err := tab.SetLocalStorage(ctx, key, fmt.Sprintf(`{"access_token":"aaa.bbb.ccc","refresh_token":"rt1","expires_at":%d,"profile":{"sub":"alice"}}`, future)); err != nil {
		t.Fatal(err)
	}
	if err := tab.ExpireStoredAccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := tab.StoredUser(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u.Key != key || u.Storage != "localStorage" || u.ExpiresAt >= time.Now().Unix() || u.AccessToken != "aaa.bbb.cccx" {
		t.Fatalf("after expire: %+v", u)
	}
	if err := tab.CorruptStoredAccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tab.CorruptStoredRefreshToken(ctx); err != nil {
		t.Fatal(err)
	}
	if u, _ = tab.StoredUser(ctx); u.AccessToken != "aaa.bbb.cccxA" || u.RefreshToken != "rt1A" {
		t.Fatalf("after corrupt: %+v", u)
	}
	if err := tab.RemoveStoredRefreshToken(ctx); err != nil {
		t.Fatal(err)
	}
	raw, ok, err := tab.GetLocalStorage(ctx, key)
	if err != nil || !ok || strings.Contains(raw, "refresh_token") || !strings.Contains(raw, `"sub":"alice"`) {
		t.Fatalf("after removing the RT: %q %v %v", raw, ok, err)
	}

	// A second tab of the session shares the storage; another session does not.
	tab2, err := s.NewTab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tabs()) != 2 {
		t.Fatalf("%d tabs", len(s.Tabs()))
	}
	if err := tab2.Navigate(ctx, appURL+"/"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := tab2.GetLocalStorage(ctx, key); !ok {
		t.Fatal("the second tab does not see the first tab's storage")
	}
	_, other, _ := newTab(t)
	if err := other.Navigate(ctx, appURL+"/"); err != nil {
		t.Fatal(err)
	}
	if all, err := other.LocalStorage(ctx); err != nil || len(all) != 0 {
		t.Fatalf("another session sees storage %v, %v", all, err)
	}
	if err := tab2.Close(); err != nil {
		t.Fatal(err)
	}
	if len(s.Tabs()) != 1 {
		t.Fatalf("%d tabs after closing one", len(s.Tabs()))
	}
	if err := tab.RemoveLocalStorage(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := tab.GetLocalStorage(ctx, key); ok {
		t.Fatal("item still there")
	}
}

func TestHistoryBackForward(t *testing.T) {
	_, tab, ctx := newTab(t)
	for _, p := range []string{"/a", "/b"} {
		if err := tab.Navigate(ctx, appURL+p); err != nil {
			t.Fatal(err)
		}
	}
	// An SPA route change: same document.
	if err := tab.Run(ctx, chromedp.Evaluate[chromedp.Void](`history.pushState({}, "", "/c")`)); err != nil {
		t.Fatal(err)
	}
	h, err := tab.History(ctx)
	if err != nil {
		t.Fatal(err)
	}
	urls := strings.Join(h.URLs, " ")
	if !strings.HasSuffix(urls, appURL+"/a "+appURL+"/b "+appURL+"/c") || h.Current != len(h.URLs)-1 {
		t.Fatalf("history %+v", h)
	}
	if err := tab.Back(ctx); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, tab, `location.pathname`); got != "/b" {
		t.Fatalf("after same-document back: %s", got)
	}
	if err := tab.Back(ctx); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, tab, `location.pathname`); got != "/a" {
		t.Fatalf("after back: %s", got)
	}
	if err := tab.Forward(ctx); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, tab, `location.pathname`); got != "/b" {
		t.Fatalf("after forward: %s", got)
	}
}

func TestCloseLeavesNoChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := browser.Launch(ctx, browser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := b.UserDataDir()
	if len(browser.ProcessesUsing(dir)) == 0 {
		t.Fatal("no Chromium process found for the new browser")
	}
	s, err := b.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.NewTab(ctx); err != nil {
		t.Fatal(err)
	}
	// Close with a session still open: Close closes it.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	if pids := browser.ProcessesUsing(dir); len(pids) != 0 {
		t.Fatalf("processes left after Close: %v", pids)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("profile directory %s still there: %v", dir, err)
	}
	if _, err := b.NewSession(ctx); err == nil {
		t.Fatal("NewSession on a closed browser succeeded")
	}
}

// A start abandoned half-way (the caller's context ends while Chromium is
// still coming up) must return at once with the reason and leave no process
// and no profile behind, never hang in chromedp's shutdown.
func TestAbandonedLaunchReturnsAndLeavesNothing(t *testing.T) {
	for _, wait := range []time.Duration{0, 30 * time.Millisecond, 150 * time.Millisecond} {
		before, _ := filepath.Glob(filepath.Join(os.TempDir(), "rehearsal-chromium-*"))
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			b, err := browser.Launch(ctx, browser.Options{})
			if err == nil {
				err = b.Close()
				if err == nil {
					err = errors.New("started") // fast machine: fine, but nothing to check
				}
			}
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("Launch with a %v start bound still running after 30 s", wait)
		}
		cancel()
		if err != nil && err.Error() == "started" {
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "gave up") {
			t.Errorf("bound %v: want an error saying the start was given up, got %v", wait, err)
		}
		if took := time.Since(start); took > 15*time.Second {
			t.Errorf("bound %v: Launch took %v to give up", wait, took)
		}
		after, _ := filepath.Glob(filepath.Join(os.TempDir(), "rehearsal-chromium-*"))
		for _, dir := range after {
			if !slices.Contains(before, dir) {
				if pids := browser.ProcessesUsing(dir); len(pids) > 0 {
					t.Errorf("bound %v: Chromium processes %v left for %s", wait, pids, dir)
				}
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("bound %v: profile %s left behind", wait, dir)
				}
			}
		}
	}
}

// helperLaunch runs in a child process: it launches a browser, prints its
// profile directory and waits to be killed.
func helperLaunch() {
	b, err := browser.Launch(context.Background(), browser.Options{})
	if err != nil {
		fmt.Println("ERR", err)
		return
	}
	fmt.Println("DIR", b.UserDataDir())
	select {}
}

func TestNoChromiumOutlivesAKilledParent(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "REHEARSAL_BROWSER_HELPER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "DIR ") || strings.HasPrefix(l, "ERR ") {
				line <- l
				return
			}
		}
		line <- "helper exited without a DIR line"
	}()
	var dir string
	select {
	case l := <-line:
		var ok bool
		if dir, ok = strings.CutPrefix(l, "DIR "); !ok {
			t.Fatalf("helper said %q", l)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("the helper did not launch a browser")
	}
	defer os.RemoveAll(dir) // the killed parent could not remove it
	if len(browser.ProcessesUsing(dir)) == 0 {
		t.Fatal("no Chromium found for the helper")
	}
	// As ginkgo does after its interrupt grace: SIGKILL, no cleanup runs.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	eventually(t, 10*time.Second, "Chromium processes exit after their parent was killed", func() bool {
		return len(browser.ProcessesUsing(dir)) == 0
	})
}

// The browser reaches the raw 127.0.0.1 URL too (rehearsal up uses plain URLs).
func TestPlainLoopbackURL(t *testing.T) {
	_, tab, ctx := newTab(t)
	if err := tab.Navigate(ctx, rawURL+"/"); err != nil {
		t.Fatal(err)
	}
	host, _, _ := net.SplitHostPort(strings.TrimPrefix(rawURL, "http://"))
	if got := eval[string](t, ctx, tab, `location.hostname`); got != host {
		t.Fatalf("hostname %q", got)
	}
}
