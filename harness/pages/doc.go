// Package pages holds the page objects for the SPA and the authorization
// server's sign-in page. They speak only in the test roles of
// docs/spa-roles.md (data-testid values), mapped to CSS selectors by a Roles
// table that a target file can override for a real deployment.
//
// Actions return chromedp actions to run with browser.Tab.Run; queries take
// the spec's context and a tab and return (T, error), so they drop into
// Gomega's Eventually(func(ctx context.Context) (T, error)).
//
// Import rule: pages imports harness/browser, chromedp and the standard
// library; nothing else of this repository, and never Ginkgo or Gomega.
package pages
