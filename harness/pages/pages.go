package pages

import (
	"encoding/json"

	"github.com/chromedp/chromedp"
)

// UI is the page objects for one target: the SPA and the AS sign-in page,
// with the target's role selectors. It holds no state and is safe to share.
type UI struct {
	roles     Roles
	stateExpr string
}

// New returns the page objects with the given selector overrides; nil uses
// the default [data-testid="..."] selectors.
func New(overrides Roles) *UI {
	roles := make(Roles, len(overrides))
	for k, v := range overrides {
		roles[k] = v
	}
	return &UI{roles: roles, stateExpr: stateExpression(roles)}
}

// Selector returns the CSS selector of role for this target.
func (u *UI) Selector(role string) string { return u.roles.Selector(role) }

// Action is what the actions return: run it with browser.Tab.Run.
type Action = chromedp.Action[chromedp.Void]

// Open navigates to url and waits for its load event.
func (u *UI) Open(url string) Action {
	return chromedp.Navigate(url)
}

// ClickRole clicks the first element of role with a real mouse click, waiting
// (within the caller's context) until it is visible.
func (u *UI) ClickRole(role string) Action {
	return chromedp.Click(chromedp.CSS(u.Selector(role)))
}

// ClickSignIn clicks a sign-in button (the header's or the signed-out view's).
func (u *UI) ClickSignIn() Action { return u.ClickRole(RoleSignIn) }

// ClickSignOut clicks the header's sign-out button.
func (u *UI) ClickSignOut() Action { return u.ClickRole(RoleSignOut) }

// ClickReload clicks the SPA's reload button (not the browser's reload).
func (u *UI) ClickReload() Action { return u.ClickRole(RoleReload) }

// ClickRetry clicks the retry button of the first error panel.
func (u *UI) ClickRetry() Action { return u.ClickRole(RoleErrorRetry) }

// SignInAs waits for the AS sign-in form, types the credentials as a user
// would and submits. It does not wait for the redirect back: poll State.
func (u *UI) SignInAs(user, password string) Action {
	username, pass := chromedp.CSS(u.Selector(RoleASUsername)), chromedp.CSS(u.Selector(RoleASPassword))
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS(u.Selector(RoleASLoginForm))),
		clearInput(u.Selector(RoleASUsername)),
		chromedp.SendKeys(username, user),
		clearInput(u.Selector(RoleASPassword)),
		chromedp.SendKeys(pass, password),
		chromedp.Click(chromedp.CSS(u.Selector(RoleASSubmit))),
	)
}

// clearInput empties a field's value as a user selecting all and deleting
// would (chromedp.Clear only resets the value attribute, not what was typed).
func clearInput(selector string) Action {
	sel, _ := json.Marshal(selector)
	return chromedp.Evaluate[chromedp.Void](`(() => {
  const el = document.querySelector(` + string(sel) + `);
  if (el) { el.value = ""; el.dispatchEvent(new Event("input", {bubbles: true})); }
})()`)
}
