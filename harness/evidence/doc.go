// Package evidence writes the evidence bundle of one failed or flaky spec
// attempt: a folder named after the scenario id and attempt
// (out/evidence/TOK-01_as-down/attempt-1/) holding screenshots by phase, the
// DOM, the browser console, a HAR-like network log, link counters, the faults
// applied and removed, AS and API log lines, a token timeline (decoded claims,
// never raw tokens), control-plane actions, a one-line repro command, and a
// manifest.json listing every file.
//
// Every byte written, and every file name, goes through a redact.Redactor
// first. Screenshots are the exception that cannot be filtered: they are
// pixels, so pages under test must not render secrets.
//
// The file names and record types here are the contract with package reports,
// which reads bundles back with the Read* functions.
//
// Import rule: standard library and harness/redact only. Plain Go, no Ginkgo.
package evidence
