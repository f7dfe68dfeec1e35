package pages

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"

	"rehearsal/harness/browser"
)

//go:embed state.js
var stateJS string

// AppState is one consistent snapshot of what the user sees, read in a single
// evaluation. Fields that do not apply to the current page are zero.
type AppState struct {
	URL   string `json:"url"` // not redacted: specs assert that no code or state is left in it
	Path  string `json:"path"`
	Title string `json:"title"`

	// BrowserError is Chromium's error code (e.g. ERR_CONNECTION_REFUSED)
	// when the tab shows Chromium's own error page instead of a document.
	BrowserError string `json:"browserError"`

	Ready           bool   `json:"ready"`     // app root has data-ready="true"
	SignedIn        bool   `json:"signedIn"`  // signed-in-user visible
	UserName        string `json:"userName"`  // its text (the name claim)
	UserSub         string `json:"userSub"`   // its data-sub
	SignedOut       bool   `json:"signedOut"` // signed-out-view visible
	SignedOutReason string `json:"signedOutReason"`
	Loading         bool   `json:"loading"` // loading indicator visible

	// ErrorPanel is the first visible error panel, nil when none is;
	// ErrorPanels lists every visible one (one per affected view).
	ErrorPanel  *ErrorPanel  `json:"-"`
	ErrorPanels []ErrorPanel `json:"errorPanels"`

	// Views holds the data views present in the DOM, by role.
	Views map[string]ViewState `json:"views"`

	// Buttons holds sign-in, sign-out, reload and error-retry.
	Buttons map[string]ButtonState `json:"buttons"`

	OnASLoginForm bool   `json:"onASLoginForm"` // the AS sign-in form is visible
	ASError       bool   `json:"asError"`       // the AS error page is shown
	ASErrorText   string `json:"asErrorText"`
	ASLoginError  string `json:"asLoginError"` // text of the sign-in form's error, "" when none
}

// ErrorPanel is what an error panel shows.
type ErrorPanel struct {
	Code    string `json:"code"`
	ID      string `json:"id"`
	Message string `json:"message"`
}

// ViewState is a data view's state.
type ViewState struct {
	State     string `json:"state"` // loading, ready or error
	ErrorCode string `json:"errorCode"`
	Items     int    `json:"items"` // company-item or transaction-item inside it
	Visible   bool   `json:"visible"`
}

// ButtonState says whether a button can be clicked.
type ButtonState struct {
	Present bool `json:"present"`
	Visible bool `json:"visible"`
	Enabled bool `json:"enabled"`
}

// State reads the tab's UI state in one evaluation. It works on the SPA, on
// the AS's pages and on Chromium's error pages; it fails only when the page
// cannot be evaluated at all (e.g. in the middle of a navigation), which an
// Eventually simply retries.
func (u *UI) State(ctx context.Context, tab *browser.Tab) (AppState, error) {
	raw, err := browser.RunValue(ctx, tab, chromedp.Evaluate[[]byte](u.stateExpr))
	if err != nil {
		return AppState{}, fmt.Errorf("pages: reading the UI state: %w", err)
	}
	var s AppState
	if err := json.Unmarshal(raw, &s); err != nil {
		return AppState{}, fmt.Errorf("pages: decoding the UI state %s: %w", raw, err)
	}
	if len(s.ErrorPanels) > 0 {
		s.ErrorPanel = &s.ErrorPanels[0]
	}
	if strings.HasPrefix(s.URL, "chrome-error:") && s.BrowserError == "" {
		// The headless shell's error page is empty: the reason is in the
		// tab's network log.
		s.BrowserError = lastDocumentFailure(tab)
	}
	return s, nil
}

// lastDocumentFailure returns the failure of the latest failed document
// request of the tab, or a placeholder.
func lastDocumentFailure(tab *browser.Tab) string {
	entries := tab.Network()
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.ResourceType == "Document" && e.Failure != "" {
			return e.Failure
		}
	}
	return "Chromium error page (reason unknown)"
}

// stateExpression binds the selectors into the state script.
func stateExpression(roles Roles) string {
	sel, _ := json.Marshal(roles.all())
	views, _ := json.Marshal(DataViews)
	return "(" + stateJS + ")(" + string(sel) + ", " + string(views) + ")"
}
