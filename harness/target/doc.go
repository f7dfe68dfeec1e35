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
