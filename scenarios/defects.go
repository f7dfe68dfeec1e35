package scenarios

import "slices"

// defectNames are the defects the reference stack offers (CATALOGUE.md,
// "Defects the reference stack must offer"). A scenario's `catches` must name
// only these. Keep the list in step with the fixtures' own lists.
var defectNames = []string{
	"api-accepts-alg-none",
	"api-cors-missing-on-errors",
	"api-exp-not-required",
	"api-fetch-error-as-401",
	"api-jwks-fetch-no-timeout",
	"api-jwks-no-refetch-on-unknown-kid",
	"api-no-audience-check",
	"api-no-clock-leeway",
	"as-cors-missing-on-errors",
	"as-pkce-not-enforced",
	"as-refresh-not-rotated",
	"spa-callback-left-in-history",
	"spa-deep-link-lost",
	"spa-init-hangs-when-as-down",
	"spa-logout-on-network-error",
	"spa-loop-on-permanent-401",
	"spa-no-cross-tab-signout",
	"spa-no-retry-after-refresh",
	"spa-refresh-lock-per-tab",
	"spa-refresh-per-request",
}

// Defects returns the names of every defect a scenario may claim to catch, sorted.
func Defects() []string { return slices.Clone(defectNames) }

// IsDefect reports whether name is a known defect.
func IsDefect(name string) bool { return slices.Contains(defectNames, name) }

// capabilities a target may have. A scenario needing one the target lacks is
// skipped with the reason. The parser adds what a scenario's steps imply
// (a `control` step on the AS implies control-plane:as, a counter on the jwks
// link implies http-proxy:jwks, ...); `requires` in a file adds to that.
var capabilities = []string{
	"browser",
	"control-plane:api",
	"control-plane:as",
	"control-plane:spa",
	"http-proxy:api",
	"http-proxy:as",
	"http-proxy:jwks",
	"http-proxy:spa",
	"network-proxy:api",
	"network-proxy:as",
	"network-proxy:jwks",
	"network-proxy:spa",
}

// Capabilities returns every capability name a scenario may require, sorted.
func Capabilities() []string { return slices.Clone(capabilities) }
