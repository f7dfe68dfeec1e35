package pages

import "strconv"

// The roles the page objects use (docs/spa-roles.md and the AS sign-in page).
const (
	RoleApp           = "app"
	RoleSignIn        = "sign-in"
	RoleSignOut       = "sign-out"
	RoleReload        = "reload"
	RoleSignedInUser  = "signed-in-user"
	RoleSignedOutView = "signed-out-view"
	RoleLoading       = "loading"
	RoleHomeView      = "home-view"
	RoleMeView        = "me-view"
	RoleCompaniesView = "companies-view"
	RoleCompanyView   = "company-view"
	RoleTransactions  = "transactions-view"
	RoleCompanyItem   = "company-item"
	RoleTransaction   = "transaction-item"
	RoleErrorPanel    = "error-panel"
	RoleErrorCode     = "error-code"
	RoleErrorID       = "error-id"
	RoleErrorMessage  = "error-message"
	RoleErrorRetry    = "error-retry"
	RoleASLoginForm   = "as-login-form"
	RoleASUsername    = "as-username"
	RoleASPassword    = "as-password"
	RoleASSubmit      = "as-submit"
	RoleASError       = "as-error"
	RoleASLoginError  = "as-login-error"
)

// DataViews are the views that carry data-state, with the role of their items
// ("" when the view has no items).
var DataViews = map[string]string{
	RoleHomeView:      "",
	RoleMeView:        "",
	RoleCompaniesView: RoleCompanyItem,
	RoleCompanyView:   "",
	RoleTransactions:  RoleTransaction,
}

// Roles maps a role to the CSS selector that finds it. A role that is not in
// the map uses [data-testid="<role>"]; a nil Roles is the default mapping.
type Roles map[string]string

// Selector returns the CSS selector of role.
func (r Roles) Selector(role string) string {
	if sel, ok := r[role]; ok && sel != "" {
		return sel
	}
	return "[data-testid=" + strconv.Quote(role) + "]"
}

// all returns the selector of every role the state query reads.
func (r Roles) all() map[string]string {
	roles := []string{
		RoleApp, RoleSignIn, RoleSignOut, RoleReload, RoleSignedInUser, RoleSignedOutView,
		RoleLoading, RoleErrorPanel, RoleErrorCode, RoleErrorID, RoleErrorMessage, RoleErrorRetry,
		RoleASLoginForm, RoleASError, RoleASLoginError,
	}
	for view, item := range DataViews {
		roles = append(roles, view)
		if item != "" {
			roles = append(roles, item)
		}
	}
	m := make(map[string]string, len(roles))
	for _, role := range roles {
		m[role] = r.Selector(role)
	}
	return m
}
