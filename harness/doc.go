// Package harness holds the plain Go drivers that rehearsals are built from:
// target stacks, the browser, page objects, faults (netfault), control-plane
// clients (control), evidence collection, configuration and timeouts, and
// redaction. Each job lives in its own subpackage with its own doc.go.
//
// Import rule: harness is plain Go. It never imports Ginkgo or Gomega, so the
// same drivers serve Ginkgo suites, the scenario runner and the command line.
// Every operation that can block takes a context.Context and reports failure
// as an error; nothing here panics, calls os.Exit or sleeps to wait for state.
// harness may import fixtures only in the embedded-target adapter (the one
// package that starts the reference stack in-process); every other harness
// package talks to the stack over HTTP like any other target. Nothing under
// harness imports scenarios, suites, reports or cmd.
package harness
