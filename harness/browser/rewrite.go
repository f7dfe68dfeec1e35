package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// Rewrite changes requests of a tab before they leave the browser, as a
// tampering user or a hostile extension would: the page never sees the
// change (Fetch.continueRequest).
type Rewrite struct {
	// URLPattern selects the requests, in the Fetch domain's syntax ('*' is
	// zero or more characters), e.g. "http://login.rehearsal.test/authorize*".
	URLPattern string
	// Path, if set, must equal the request's URL path (the pattern may match
	// more, such as /authorize_callback for /authorize*).
	Path string
	// Query parameters set (added or replaced) in the request URL.
	Query map[string]string
	// Form fields set in an application/x-www-form-urlencoded request body.
	Form map[string]string
}

// pausedTimeout bounds the answer to one paused request; a request left
// paused would hang the page.
const pausedTimeout = 5 * time.Second

// RewriteRequests rewrites the tab's matching requests until healed. Several
// rewrites add up; each Heal lifts only its own. Requests the Fetch domain
// pauses but no rewrite matches continue unchanged.
func (t *Tab) RewriteRequests(ctx context.Context, rw Rewrite) (Heal, error) {
	if rw.URLPattern == "" || (len(rw.Query) == 0 && len(rw.Form) == 0) {
		return nil, errors.New("browser: RewriteRequests needs a URL pattern and query parameters or form fields to set")
	}
	r := rw
	t.faultsMu.Lock()
	defer t.faultsMu.Unlock()
	if t.rewrites == nil {
		t.rewrites = map[*Rewrite]struct{}{}
		// Subscribe before enabling the domain so no paused request is missed.
		// The events arrive on a goroutine of their own, so answering them
		// with commands does not block the tab's message loop.
		paused := chromedp.Events(t.ctx, fetch.RequestPaused)
		go func() {
			for ev, err := range paused {
				if err != nil {
					return
				}
				t.continuePaused(ev)
			}
		}()
	}
	t.rewrites[&r] = struct{}{}
	if err := t.sendFetchLocked(ctx); err != nil {
		delete(t.rewrites, &r)
		return nil, err
	}
	return onceHeal(func(ctx context.Context) error {
		t.faultsMu.Lock()
		defer t.faultsMu.Unlock()
		delete(t.rewrites, &r)
		if err := t.sendFetchLocked(ctx); err != nil {
			t.rewrites[&r] = struct{}{}
			return err
		}
		return nil
	}), nil
}

// sendFetchLocked enables the Fetch domain for the active rewrites' patterns,
// or disables it when none is left.
func (t *Tab) sendFetchLocked(ctx context.Context) error {
	if len(t.rewrites) == 0 {
		if _, err := call(ctx, t, fetch.Disable, struct{}{}); err != nil {
			return fmt.Errorf("browser: disabling request interception: %w", err)
		}
		return nil
	}
	var patterns []*fetch.RequestPattern
	for r := range t.rewrites {
		patterns = append(patterns, &fetch.RequestPattern{URLPattern: r.URLPattern, RequestStage: fetch.RequestStageRequest})
	}
	if _, err := call(ctx, t, fetch.Enable, fetch.EnableParams{Patterns: patterns}); err != nil {
		return fmt.Errorf("browser: enabling request interception: %w", err)
	}
	return nil
}

// continuePaused lets a paused request go on, rewritten by every active
// rewrite that matches it.
func (t *Tab) continuePaused(ev fetch.EventRequestPaused) {
	params := fetch.ContinueRequestParams{RequestID: ev.RequestID}
	if ev.Request != nil {
		t.faultsMu.Lock()
		var match []Rewrite
		for r := range t.rewrites {
			if r.matches(ev.Request.URL) {
				match = append(match, *r)
			}
		}
		t.faultsMu.Unlock()
		for _, r := range match {
			if len(r.Query) > 0 {
				if u, err := url.Parse(ev.Request.URL); err == nil {
					q := u.Query()
					for k, v := range r.Query {
						q.Set(k, v)
					}
					u.RawQuery = q.Encode()
					params.URL = u.String()
				}
			}
			if len(r.Form) > 0 && ev.Request.HasPostData {
				var body bytes.Buffer
				for _, e := range ev.Request.PostDataEntries {
					body.Write(e.Bytes)
				}
				if form, err := url.ParseQuery(body.String()); err == nil {
					for k, v := range r.Form {
						form.Set(k, v)
					}
					params.PostData = []byte(form.Encode())
				}
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), pausedTimeout)
	defer cancel()
	// An error here means the tab is gone or the request was cancelled.
	_, _ = call(ctx, t, fetch.ContinueRequest, params)
}

func (r *Rewrite) matches(raw string) bool {
	if r.Path == "" {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if strings.HasSuffix(r.Path, "*") {
		return strings.HasPrefix(u.Path, strings.TrimSuffix(r.Path, "*"))
	}
	return u.Path == r.Path
}
