// Package netfault puts every link of a rehearsal topology behind two fault
// layers and observes what crosses it:
//
//	client ──▶ toxiproxy proxy ──▶ HTTP fault proxy ──▶ upstream server
//
// The network layer is toxiproxy (latency, bandwidth, slow close, black hole,
// reset, slicing, data limits, link down), driven only through toxiproxy's
// official Go client, so the in-process server used by default can be replaced
// by a remote one by passing its API URL. The HTTP layer is a small reverse
// proxy that answers, delays, drops or edits matching requests and counts every
// request by path and grant type; the counters are the rehearsals' main oracle.
//
// Counters: every request except a CORS preflight counts under its path
// ("/token"); a form POST carrying grant_type also counts under
// "path[grant_type]" ("/token[refresh_token]"), so "/token" is the total of all
// token calls; preflights count under "OPTIONS path". Note that the fixtures'
// own journal counts a grant request under "path[grant_type]" only.
//
// Every fault returns an *Applied whose Remove heals it; each application and
// removal is recorded as an Event for failure evidence. The request log keeps
// no Authorization header, cookie, code or token: sensitive query parameters
// are redacted and bodies are never stored.
//
// Contexts: toxiproxy's Go client takes no context, so network-layer calls
// check ctx before they start and are otherwise bounded by that client's own
// 30 s timeout.
//
// Import rule: standard library, toxiproxy (server and client) and zerolog
// (required by the toxiproxy server) only; nothing else from this repository.
package netfault
