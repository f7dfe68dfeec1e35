// Package browser drives one real Chromium per Ginkgo process through the
// Chrome DevTools Protocol (chromedp v0.24): it launches or attaches to the
// browser, hands out isolated sessions (one browser context each, with one or
// more tabs), records each tab's console and network log as evidence, and
// applies the browser-layer faults of the catalogue (offline, blocked URLs, a
// shifted clock, third-party cookies blocked, storage tampering, history).
//
// Every operation takes the caller's context (the spec's context): its
// deadline and cancellation stop that one operation, never the tab or the
// browser. The browser and each tab are started with a first chromedp run that
// has no timeout, because chromedp binds the life of a browser or a tab to the
// context of its first run; the start is bounded by a separate timer instead.
//
// Import rule: browser imports only the standard library, chromedp and
// cdproto. It knows nothing of the SPA's roles (see harness/pages), of
// scenarios, suites, reports or fixtures, and it never imports Ginkgo.
package browser
