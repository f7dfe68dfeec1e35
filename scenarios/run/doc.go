// Package run executes scenarios against a target: it turns each step of the
// closed vocabulary into harness calls (browser, page objects, faults,
// control planes) and evaluates expectations, polling to a bound or holding
// for a window. It is plain Go with no Ginkgo, so `rehearsal run` and the
// suites share it; package scenarios/specs turns scenarios into Ginkgo specs
// on top of it.
//
// Every fault a session applies is registered for removal, and Close removes
// whatever is left, so a scenario cannot leak a fault into the next.
//
// Import rule: scenarios and harness packages only; never fixtures or Ginkgo.
package run
