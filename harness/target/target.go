package target

import (
	"context"
	"net/http"

	"rehearsal/harness/control"
	"rehearsal/harness/netfault"
)

// URLs are the browser-facing addresses of the three parts.
type URLs struct {
	SPA    string `json:"spa"`
	Issuer string `json:"issuer"`
	API    string `json:"api"`
}

// User is a test account on the target.
type User struct {
	Name     string `json:"name"`
	Password string `json:"-"`
	Display  string `json:"display"`
}

// Capability names what a target can do; scenarios list the ones they need
// (the names are the scenario format's: see scenarios.Capabilities).
type Capability = string

// The capabilities a scenario may require.
const (
	Browser         Capability = "browser"
	ControlAS       Capability = "control-plane:as"
	ControlAPI      Capability = "control-plane:api"
	ControlSPA      Capability = "control-plane:spa"
	HTTPProxyPrefix Capability = "http-proxy:"    // + link name
	NetProxyPrefix  Capability = "network-proxy:" // + link name
)

// DirectAuthorization is the outcome of an authorization request made
// without the browser: a code (with the PKCE verifier used), or the error the
// AS sent to the redirect URI or showed on its own page.
type DirectAuthorization struct {
	Code, Verifier, State   string
	Error, ErrorDescription string
	// Status is the AS's HTTP status when it answered with its own page.
	Status int
}

// DirectAuthorizer is an optional part of a target that can run the
// authorization request and its sign-in form over plain HTTP. Method is the
// code_challenge_method to send: "S256", "plain" or "none" (no challenge).
type DirectAuthorizer interface {
	AuthorizeDirect(ctx context.Context, user, method string) (DirectAuthorization, error)
}

// SPAController is an optional part of a target whose SPA host has a control
// plane (the scope it serves in /config.json, LGN-03 spa-scope).
type SPAController interface {
	SPA() *control.SPA
}

// Renewer is an optional part of a target that can put itself back in its
// initial state between rehearsals (fresh keys, stores, clocks and caches).
type Renewer interface {
	Renew(ctx context.Context) error
}

// Target is a system under test as a rehearsal sees it.
type Target interface {
	// Name says which target this is, for reports ("embedded", a file name).
	Name() string
	URLs() URLs
	// HostRules maps "host:port" the browser dials to "127.0.0.1:port" listeners.
	HostRules() map[string]string
	// Has reports whether the target offers a capability.
	Has(c Capability) bool
	// Link returns a proxied link by name, or nil when the target has none.
	Link(name string) *netfault.Link
	// Network is the fault network of the links, or nil.
	Network() *netfault.Network
	// AS is the authorization server's control client, or nil.
	AS() *control.AS
	// API is the API's control client, or nil.
	API() *control.API
	// HTTPClient dials the browser-facing URLs the way the browser does.
	HTTPClient() *http.Client
	// Users are the test accounts.
	Users() []User
	// Close stops everything the target started.
	Close(ctx context.Context) error
}
