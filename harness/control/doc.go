// Package control is a typed Go client for the control planes of the
// reference stack's authorization server (AS), API and SPA host, as
// documented in docs/control-api.md: logs, request counts and defects on all
// three; clocks on the AS and API; keys, lifetimes, refresh policy, sessions,
// the next authorization's outcome and minted tokens on the AS; restart and
// the JWKS cache on the API; the scope the SPA host serves in /config.json.
//
// Every method takes a context and returns an error that names the endpoint,
// the HTTP status and the server's reason, so a failing rehearsal says what
// the control plane refused and why.
//
// Import rule: standard library only. The client speaks HTTP to the control
// plane like any other target; it never imports fixtures.
package control
