package browser

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// tabStartTimeout bounds opening a tab when the caller's context has no
// earlier deadline.
const tabStartTimeout = 15 * time.Second

// Session is one isolated browser context (its own cookies, storage and
// cache) with one or more tabs. A spec opens one with NewSession and closes it
// in a DeferCleanup; closing disposes of the browser context and its tabs.
type Session struct {
	b      *Browser
	ctx    context.Context // chromedp context of the first tab; owns the browser context
	cancel context.CancelFunc

	mu     sync.Mutex
	tabs   []*Tab
	closed bool

	closeOnce sync.Once
	closeErr  error
}

// NewSession creates a fresh browser context with one tab at about:blank.
// ctx bounds only the creation.
func (b *Browser) NewSession(ctx context.Context) (*Session, error) {
	s := &Session{b: b}
	if err := b.track(s); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = chromedp.NewContext(b.rootCtx, chromedp.WithNewBrowserContext())
	t, err := openTab(ctx, s, s.ctx, s.cancel)
	if err != nil {
		s.cancel()
		b.untrack(s)
		return nil, fmt.Errorf("browser: opening a session: %w", err)
	}
	s.tabs = []*Tab{t}
	return s, nil
}

// Tab returns the session's first tab, the one NewSession opened.
func (s *Session) Tab() *Tab {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tabs) == 0 {
		return nil
	}
	return s.tabs[0]
}

// Tabs returns the session's open tabs, first tab first.
func (s *Session) Tabs() []*Tab {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Tab(nil), s.tabs...)
}

// NewTab opens another tab in the same browser context, sharing cookies and
// storage with the others (cross-tab rehearsals). It has its own window, so it
// is never a hidden background tab whose timers and frames are throttled.
func (s *Session) NewTab(ctx context.Context) (*Tab, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errors.New("browser: the session is closed")
	}
	s.mu.Unlock()
	// A child of the session's context inherits its browser context id.
	tctx, cancel := chromedp.NewContext(s.ctx)
	t, err := openTab(ctx, s, tctx, cancel)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("browser: opening a tab: %w", err)
	}
	s.mu.Lock()
	s.tabs = append(s.tabs, t)
	s.mu.Unlock()
	return t, nil
}

// Close closes the extra tabs, then the first tab, and disposes of the
// browser context. It is idempotent.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		tabs := append([]*Tab(nil), s.tabs...)
		s.mu.Unlock()
		var errs []error
		for i := len(tabs) - 1; i >= 1; i-- {
			if err := tabs[i].Close(); err != nil {
				errs = append(errs, err)
			}
		}
		// Cancelling the owner closes its tab and disposes of the context.
		if err := chromedp.Cancel(s.ctx); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("browser: closing the session: %w", err))
		}
		s.b.untrack(s)
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

func (s *Session) forget(t *Tab) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.tabs {
		if x == t {
			s.tabs = append(s.tabs[:i], s.tabs[i+1:]...)
			return
		}
	}
}

// Tab is one page. Its methods take the caller's context: cancelling it or
// reaching its deadline stops that call, and the tab stays usable.
type Tab struct {
	s      *Session
	ctx    context.Context // chromedp context bound to this tab
	cancel context.CancelFunc
	rec    *recorder

	faultsMu sync.Mutex
	blocked  map[*[]string]struct{} // active BlockURLs sets
	rewrites map[*Rewrite]struct{}  // active RewriteRequests; non-nil once interception listens

	closeOnce sync.Once
	closeErr  error
}

// openTab makes the tab's first chromedp run, bounded by ctx and
// tabStartTimeout, then starts recording its console and network.
func openTab(ctx context.Context, s *Session, tctx context.Context, cancel context.CancelFunc) (*Tab, error) {
	if err := firstRun(ctx, tctx, tabStartTimeout, "opening a tab"); err != nil {
		return nil, err
	}
	t := &Tab{s: s, ctx: tctx, cancel: cancel, rec: newRecorder()}
	if err := t.rec.start(tctx); err != nil {
		cancel()
		return nil, err
	}
	return t, nil
}

// Close closes this tab. Closing the session's first tab closes the session.
func (t *Tab) Close() error {
	if t.s.Tab() == t {
		return t.s.Close()
	}
	t.closeOnce.Do(func() {
		if err := chromedp.Cancel(t.ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.closeErr = fmt.Errorf("browser: closing a tab: %w", err)
		}
		t.s.forget(t)
	})
	return t.closeErr
}

// Run runs the actions in order on this tab. ctx (the spec's context) bounds
// the call: when it ends, the running action stops with ctx's error and the
// tab stays open.
func (t *Tab) Run(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	_, err := RunValue(ctx, t, chromedp.Steps(actions...))
	return err
}

// RunValue runs one action that returns a value on the tab, with the same
// context rules as Tab.Run. Queries use it:
//
//	title, err := browser.RunValue(ctx, tab, chromedp.Title())
func RunValue[T any](ctx context.Context, t *Tab, a chromedp.Action[T]) (T, error) {
	// Derive from the tab's context (it carries the chromedp target) and tie
	// it to ctx: a deadline and a cancellation from ctx end only this call.
	rctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	if dl, ok := ctx.Deadline(); ok {
		var cancelDL context.CancelFunc
		rctx, cancelDL = context.WithDeadline(rctx, dl)
		defer cancelDL()
	}
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	v, err := chromedp.Run(rctx, a)
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	return v, err
}

// Console returns the console messages and uncaught exceptions recorded so
// far, oldest first.
func (t *Tab) Console() []ConsoleEntry { return t.rec.consoleEntries() }

// Network returns the requests recorded so far, in the order they started.
func (t *Tab) Network() []NetworkEntry { return t.rec.networkEntries() }

// Screenshot captures the visible part of the page as PNG.
func (t *Tab) Screenshot(ctx context.Context) ([]byte, error) {
	return RunValue(ctx, t, chromedp.CaptureScreenshot())
}

// DOM returns the page's current HTML (document.documentElement.outerHTML).
func (t *Tab) DOM(ctx context.Context) (string, error) {
	return RunValue(ctx, t, chromedp.Evaluate[string](`document.documentElement ? document.documentElement.outerHTML : ""`))
}

// URL returns the page's current URL (not redacted: callers use it as an
// oracle; evidence writers must redact it).
func (t *Tab) URL(ctx context.Context) (string, error) {
	return RunValue(ctx, t, chromedp.Location())
}
