package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
)

// DefaultExecPath is where `make setup` installs Chromium's headless shell.
const DefaultExecPath = "/usr/bin/chromium-headless-shell"

// DefaultLaunchTimeout bounds how long Launch waits for the browser to answer
// its first command when Options.LaunchTimeout is zero.
const DefaultLaunchTimeout = 30 * time.Second

// closeTimeout bounds the graceful part of Close; after it the process group
// is killed.
const closeTimeout = 10 * time.Second

// Options says how to start or reach the browser.
type Options struct {
	// ExecPath is the Chromium binary. Empty means DefaultExecPath. The
	// REHEARSAL_CHROMIUM override is resolved by the configuration, not here.
	ExecPath string

	// HostRules maps "host:port" as the page sees it to "ip:port" of a local
	// listener, e.g. "app.rehearsal.test:80" -> "127.0.0.1:41234". They become
	// Chromium's --host-resolver-rules, so origins, issuer URLs, cookies and
	// CORS behave as in production.
	HostRules map[string]string

	// RemoteURL is the DevTools WebSocket URL of a browser that already runs
	// (a remote browser pool). When set, nothing is launched and HostRules must
	// be empty: the remote browser resolves names itself.
	RemoteURL string

	// ExtraFlags are more Chromium flags, name without "--" -> string or bool.
	ExtraFlags map[string]any

	// LaunchTimeout bounds the start of the browser; zero means
	// DefaultLaunchTimeout. The context given to Launch bounds it too.
	LaunchTimeout time.Duration

	// Logf receives chromedp's log and error lines. Nil discards them.
	Logf func(format string, args ...any)
}

// Browser is one Chromium (launched or remote) shared by the specs of one
// Ginkgo process. It is safe for concurrent use; each spec uses its own
// Session.
type Browser struct {
	allocCancel context.CancelFunc
	rootCtx     context.Context // chromedp context that owns the browser
	rootCancel  context.CancelFunc
	userDataDir string // empty for a remote browser
	pid         int    // 0 for a remote browser

	mu       sync.Mutex
	sessions map[*Session]struct{}
	closed   bool

	closeOnce sync.Once
	closeErr  error
}

// Launch starts Chromium (or attaches to Options.RemoteURL) and waits until it
// answers. ctx bounds only the start; the browser lives until Close.
func Launch(ctx context.Context, o Options) (*Browser, error) {
	if o.LaunchTimeout <= 0 {
		o.LaunchTimeout = DefaultLaunchTimeout
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	// The browser must outlive ctx (a setup node's context), so it hangs off a
	// context that keeps ctx's values but not its cancellation.
	base := context.WithoutCancel(ctx)

	b := &Browser{sessions: map[*Session]struct{}{}}
	var allocCtx context.Context
	if o.RemoteURL != "" {
		if len(o.HostRules) > 0 {
			return nil, errors.New("browser: HostRules cannot be applied to a remote browser (RemoteURL is set): start the remote browser with its own --host-resolver-rules, or use names it can resolve")
		}
		allocCtx, b.allocCancel = remote.NewAllocator(base, o.RemoteURL)
	} else {
		opts, dir, err := execOptions(o)
		if err != nil {
			return nil, err
		}
		b.userDataDir = dir
		allocCtx, b.allocCancel = chromedp.NewExecAllocator(base, opts...)
	}
	b.rootCtx, b.rootCancel = chromedp.NewContext(allocCtx,
		chromedp.WithLogf(logf), chromedp.WithErrorf(logf))

	what := "starting Chromium at " + o.ExecPath
	if o.RemoteURL != "" {
		what = "attaching to the remote browser at " + o.RemoteURL
	}
	if err := firstRun(ctx, b.rootCtx, o.LaunchTimeout, what); err != nil {
		// No graceful close: chromedp may still be allocating, and its
		// Cancel would take the allocation's turn, leaving the root
		// context's cancel waiting for a browser that never comes.
		_ = b.shutdown(false)
		return nil, err
	}
	if c := chromedp.FromContext(b.rootCtx); c != nil && c.Browser != nil {
		if p := c.Browser.Process(); p != nil {
			b.pid = p.Pid
		}
	}
	return b, nil
}

// execOptions builds the allocator options for a local launch and creates the
// fresh user-data directory (removed by Close).
func execOptions(o Options) ([]chromedp.ExecAllocatorOption, string, error) {
	if o.ExecPath == "" {
		o.ExecPath = DefaultExecPath
	}
	if st, err := os.Stat(o.ExecPath); err != nil || st.IsDir() {
		return nil, "", fmt.Errorf("Chromium not found at %s: run `make setup` (apt-get install -y chromium-headless-shell) or set REHEARSAL_CHROMIUM", o.ExecPath)
	}
	for name, v := range o.ExtraFlags {
		switch v.(type) {
		case string, bool:
		default:
			return nil, "", fmt.Errorf("browser: extra flag %q has a %T value; Chromium flags take a string or a bool", name, v)
		}
	}
	dir, err := os.MkdirTemp("", UserDataDirPrefix)
	if err != nil {
		return nil, "", fmt.Errorf("browser: creating the user data directory: %w", err)
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(o.ExecPath),
		chromedp.UserDataDir(dir),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // root in containers and CI
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		// chromedp's own default sets Pdeathsig; a ModifyCmdFunc replaces that
		// default, so processAttrs sets it again together with a process group.
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) { processAttrs(cmd) }),
	)
	if rules := hostResolverRules(o.HostRules); rules != "" {
		opts = append(opts, chromedp.Flag("host-resolver-rules", rules))
	}
	names := make([]string, 0, len(o.ExtraFlags))
	for name := range o.ExtraFlags {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		opts = append(opts, chromedp.Flag(name, o.ExtraFlags[name]))
	}
	return opts, dir, nil
}

// UserDataDirPrefix starts the name of every user-data directory Launch
// creates, so leftovers can be found by name.
const UserDataDirPrefix = "rehearsal-chromium-"

// hostResolverRules renders the rules in a stable order:
// "MAP a:80 127.0.0.1:1, MAP b:80 127.0.0.1:2".
func hostResolverRules(m map[string]string) string {
	from := make([]string, 0, len(m))
	for k := range m {
		from = append(from, k)
	}
	sort.Strings(from)
	rules := make([]string, 0, len(from))
	for _, k := range from {
		rules = append(rules, "MAP "+k+" "+m[k])
	}
	return strings.Join(rules, ", ")
}

// firstRun makes the first chromedp run on cdpCtx, which binds the browser or
// the tab to cdpCtx. It must carry no timeout (a timeout would later kill the
// browser or tab), so the start is watched from outside: if ctx ends or limit
// passes first, cdpCtx's owner must cancel it.
func firstRun(ctx, cdpCtx context.Context, limit time.Duration, what string) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(cdpCtx) }()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: gave up: %w", what, context.Cause(ctx))
	case <-timer.C:
		return fmt.Errorf("%s: no answer within %v; is the binary a working Chromium, and does it start by hand with --headless --no-sandbox?", what, limit)
	}
}

// UserDataDir is the browser's temporary profile directory ("" when remote).
func (b *Browser) UserDataDir() string { return b.userDataDir }

// PID is the browser's main process id (0 when remote).
func (b *Browser) PID() int { return b.pid }

// Close closes every open session, then the browser: gracefully first, then
// by killing its process group and any process still using its profile
// directory, which it then removes. It is idempotent.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		sessions := make([]*Session, 0, len(b.sessions))
		for s := range b.sessions {
			sessions = append(sessions, s)
		}
		b.mu.Unlock()
		var errs []error
		for _, s := range sessions {
			if err := s.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := b.shutdown(true); err != nil {
			errs = append(errs, err)
		}
		b.closeErr = errors.Join(errs...)
	})
	return b.closeErr
}

// shutdown stops the browser and removes what it left. graceful asks a
// started browser to close itself first (Browser.close).
func (b *Browser) shutdown(graceful bool) error {
	var errs []error
	if graceful && b.userDataDir != "" {
		// Graceful close (Browser.close), bounded; a remote browser is left
		// running, only our tabs close with rootCancel.
		tctx, cancel := context.WithTimeout(b.rootCtx, closeTimeout)
		if err := chromedp.Cancel(tctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, fmt.Errorf("closing Chromium: %w", err))
		}
		cancel()
	}
	// chromedp's cancel functions wait for the process and their own
	// cleanup; bounded, so a stuck wait cannot hang a run (the processes are
	// killed below either way).
	stopped := make(chan struct{})
	go func() {
		b.rootCancel()
		b.allocCancel()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(closeTimeout):
		errs = append(errs, fmt.Errorf("chromedp did not finish stopping the browser within %v; its processes were killed", closeTimeout))
	}
	if b.userDataDir != "" {
		killProcessGroup(b.pid)
		killUsing(b.userDataDir)
		if err := removeAll(b.userDataDir); err != nil {
			errs = append(errs, fmt.Errorf("removing Chromium's profile %s: %w", b.userDataDir, err))
		}
	}
	return errors.Join(errs...)
}

// removeAll retries because Chromium's helpers can write a last file after
// the main process is gone.
func removeAll(dir string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.RemoveAll(dir)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *Browser) track(s *Session) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errors.New("browser: the browser is closed")
	}
	b.sessions[s] = struct{}{}
	return nil
}

func (b *Browser) untrack(s *Session) {
	b.mu.Lock()
	delete(b.sessions, s)
	b.mu.Unlock()
}
