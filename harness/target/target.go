// Package target describes what a rehearsal runs against: the URLs the browser
// uses, the host mapping that sends them to local links, the capabilities the
// target has (control plane, proxied links), and the clients to reach them.
//
// Two kinds exist: the embedded reference stack (package harness/embedded) and,
// later, a target file naming a real deployment. A scenario that needs a
// capability the target lacks is skipped with the reason.
//
// Import rule: harness packages only (netfault, control); never fixtures.
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

// Capability names what a target can do; scenarios list the ones they need.
type Capability string

// The capabilities a scenario may require.
const (
	// ControlAS is the authorization server's control plane (keys, clock, sessions...).
	ControlAS Capability = "control:as"
	// ControlAPI is the API's control plane (clock, cache, logs).
	ControlAPI Capability = "control:api"
	// Defects means the target can be started with named defects.
	Defects Capability = "defects"
)

// LinkCapability is the capability of faulting and observing a named link
// ("spa", "as", "api", "jwks").
func LinkCapability(link string) Capability { return Capability("link:" + link) }

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
