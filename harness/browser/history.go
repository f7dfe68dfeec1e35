package browser

import (
	"context"
	"fmt"

	"github.com/chromedp/chromedp"
)

// History is the tab's session history, as the Back button sees it.
type History struct {
	Current int      // index of the current entry in URLs
	URLs    []string // oldest first; not redacted (specs assert on them), redact before writing
}

// History returns the tab's navigation history (Page.getNavigationHistory).
func (t *Tab) History(ctx context.Context) (History, error) {
	res, err := RunValue(ctx, t, chromedp.NavigationEntries())
	if err != nil {
		return History{}, fmt.Errorf("browser: reading the history: %w", err)
	}
	h := History{Current: int(res.CurrentIndex)}
	for _, e := range res.Entries {
		h.URLs = append(h.URLs, e.URL)
	}
	return h, nil
}

// Back goes one entry back, like the Back button, and waits for the page to
// load (or for the same-document navigation of an SPA route).
func (t *Tab) Back(ctx context.Context) error {
	if err := t.Run(ctx, chromedp.NavigateBack()); err != nil {
		return fmt.Errorf("browser: going back: %w", err)
	}
	return nil
}

// Forward goes one entry forward and waits like Back.
func (t *Tab) Forward(ctx context.Context) error {
	if err := t.Run(ctx, chromedp.NavigateForward()); err != nil {
		return fmt.Errorf("browser: going forward: %w", err)
	}
	return nil
}

// Reload reloads the page, like the browser's reload button (not the SPA's
// reload role), and waits for it to load.
func (t *Tab) Reload(ctx context.Context) error {
	if err := t.Run(ctx, chromedp.Reload()); err != nil {
		return fmt.Errorf("browser: reloading: %w", err)
	}
	return nil
}

// Navigate opens url in the tab and waits for the load event.
func (t *Tab) Navigate(ctx context.Context, url string) error {
	if err := t.Run(ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("browser: opening %s: %w", RedactURL(url), err)
	}
	return nil
}
