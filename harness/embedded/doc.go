// Package embedded starts the reference stack (fixtures/authserver, api, spa)
// in-process as a target: every server on 127.0.0.1 with port 0, every link
// (spa, as, api, jwks) through toxiproxy and an HTTP fault proxy, and the
// control planes on their own loopback listeners.
//
// Import rule: this is the one harness package that imports fixtures.
package embedded
