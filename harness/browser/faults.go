package browser

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Heal removes a fault. It is idempotent: once it has succeeded, later calls
// do nothing and return nil; after a failure it can be called again.
type Heal func(ctx context.Context) error

// onceHeal makes f idempotent in the sense of Heal.
func onceHeal(f func(ctx context.Context) error) Heal {
	var mu sync.Mutex
	done := false
	return func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return nil
		}
		if err := f(ctx); err != nil {
			return err
		}
		done = true
		return nil
	}
}

// call sends one protocol command to the tab under ctx's rules.
func call[P, R any](ctx context.Context, t *Tab, cmd cdp.Command[P, R], params P) (R, error) {
	return RunValue(ctx, t, func(ctx context.Context, target *chromedp.Target) (R, error) {
		return cdp.Call(ctx, target, cmd, params)
	})
}

// SetOffline takes the tab offline (offline=true) or back online. Offline,
// every request of the tab fails with net::ERR_INTERNET_DISCONNECTED and
// navigator.onLine is false, as when a laptop drops its Wi-Fi. The old
// Network.emulateNetworkConditions is gone from cdproto; this uses its
// replacements, Network.emulateNetworkConditionsByRule (requests) and
// Network.overrideNetworkState (navigator). The Heal brings the tab online.
func (t *Tab) SetOffline(ctx context.Context, offline bool) (Heal, error) {
	heal := onceHeal(func(ctx context.Context) error { return t.setOffline(ctx, false) })
	if err := t.setOffline(ctx, offline); err != nil {
		return nil, err
	}
	if !offline {
		return func(context.Context) error { return nil }, nil
	}
	return heal, nil
}

func (t *Tab) setOffline(ctx context.Context, offline bool) error {
	rules := []*network.Conditions{}
	if offline {
		rules = append(rules, &network.Conditions{
			URLPattern: "", Offline: true, DownloadThroughput: -1, UploadThroughput: -1,
		})
	}
	if _, err := call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: rules,
	}); err != nil {
		return fmt.Errorf("browser: emulating offline=%v: %w", offline, err)
	}
	if _, err := call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{
		Offline: offline, DownloadThroughput: -1, UploadThroughput: -1,
	}); err != nil {
		return fmt.Errorf("browser: setting navigator.onLine=%v: %w", !offline, err)
	}
	return nil
}

// BlockURLs makes requests of the tab matching any pattern fail at once with
// net::ERR_BLOCKED_BY_CLIENT (blocked reason "inspector"). Patterns use the
// URLPattern syntax and must be absolute, e.g. "*://api.rehearsal.test/*" or
// "http://login.rehearsal.test/token". Several BlockURLs calls add up;
// each Heal lifts only its own patterns.
func (t *Tab) BlockURLs(ctx context.Context, patterns ...string) (Heal, error) {
	if len(patterns) == 0 {
		return nil, errors.New("browser: BlockURLs needs at least one pattern")
	}
	set := append([]string(nil), patterns...)
	t.faultsMu.Lock()
	defer t.faultsMu.Unlock()
	if t.blocked == nil {
		t.blocked = map[*[]string]struct{}{}
	}
	t.blocked[&set] = struct{}{}
	if err := t.sendBlockedLocked(ctx); err != nil {
		delete(t.blocked, &set)
		return nil, err
	}
	return onceHeal(func(ctx context.Context) error {
		t.faultsMu.Lock()
		defer t.faultsMu.Unlock()
		delete(t.blocked, &set)
		if err := t.sendBlockedLocked(ctx); err != nil {
			t.blocked[&set] = struct{}{}
			return err
		}
		return nil
	}), nil
}

func (t *Tab) sendBlockedLocked(ctx context.Context) error {
	var all []*network.BlockPattern
	for set := range t.blocked {
		for _, p := range *set {
			all = append(all, &network.BlockPattern{URLPattern: p, Block: true})
		}
	}
	_, err := call(ctx, t, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: all})
	if err != nil {
		return fmt.Errorf("browser: setting blocked URLs: %w", err)
	}
	return nil
}

// clockScript replaces Date with a proxy whose "now" is the real time plus
// globalThis.__rehearsalClockOffsetMs. new Date(x) with arguments, Date.UTC,
// Date.parse and instanceof behave as before.
const clockScript = `(() => {
  const g = globalThis;
  if (!g.__rehearsalClockInstalled) {
    const RealDate = g.Date;
    const off = () => Number(g.__rehearsalClockOffsetMs) || 0;
    const now = () => RealDate.now() + off();
    g.Date = new Proxy(RealDate, {
      construct(target, args, newTarget) {
        return Reflect.construct(target, args.length ? args : [now()], newTarget);
      },
      apply() { return new RealDate(now()).toString(); },
      get(target, prop, receiver) {
        if (prop === "now") return now;
        return Reflect.get(target, prop, receiver);
      },
    });
    g.__rehearsalClockInstalled = true;
  }
  g.__rehearsalClockOffsetMs = %d;
})();`

// ShiftClock moves the page's wall clock (Date.now() and new Date()) by
// offset, in the current document and every document the tab loads later,
// until healed. It is how "the browser's clock runs ahead" is rehearsed: code
// that compares a token's exp with Date.now() (oidc-client-ts does) sees the
// shifted time.
//
// Why a script and not Emulation.setVirtualTimePolicy: virtual time pauses or
// budgets the page's whole timeline (timers, network waits), which changes far
// more than the clock and stalls real network calls; the script changes only
// what a skewed system clock changes. Not shifted: performance.now(), timer
// delays, workers and the server's clocks. A later ShiftClock replaces the
// offset of an earlier one.
func (t *Tab) ShiftClock(ctx context.Context, offset time.Duration) (Heal, error) {
	ms := offset.Milliseconds()
	src := fmt.Sprintf(clockScript, ms)
	// RunImmediately also shifts the documents already loaded (the page and
	// its frames).
	runNow := true
	res, err := call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: src, RunImmediately: &runNow,
	})
	if err != nil {
		return nil, fmt.Errorf("browser: installing the clock shift: %w", err)
	}
	id := res.Identifier
	return onceHeal(func(ctx context.Context) error {
		if _, err := call(ctx, t, page.RemoveScriptToEvaluateOnNewDocument, page.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: id}); err != nil {
			return fmt.Errorf("browser: removing the clock shift: %w", err)
		}
		// The proxy stays in the current document with a zero offset.
		if err := t.Run(ctx, chromedp.Evaluate[chromedp.Void](`globalThis.__rehearsalClockOffsetMs = 0`)); err != nil {
			return fmt.Errorf("browser: resetting the clock of the current document: %w", err)
		}
		return nil
	}), nil
}

// BlockThirdPartyCookies turns on Chromium's third-party cookie restriction
// for this tab (Network.setCookieControls), as in a browser with third-party
// cookies blocked. It takes effect for documents loaded afterwards: reload or
// navigate after calling it. The Heal lifts the restriction.
func (t *Tab) BlockThirdPartyCookies(ctx context.Context) (Heal, error) {
	set := func(ctx context.Context, on bool) error {
		_, err := call(ctx, t, network.SetCookieControls, network.SetCookieControlsParams{EnableThirdPartyCookieRestriction: on})
		if err != nil {
			return fmt.Errorf("browser: setting the third-party cookie restriction to %v: %w", on, err)
		}
		return nil
	}
	if err := set(ctx, true); err != nil {
		return nil, err
	}
	return onceHeal(func(ctx context.Context) error { return set(ctx, false) }), nil
}
