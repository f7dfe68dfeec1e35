// Package catalogue is the suite that rehearses every behaviour of
// CATALOGUE.md against the target (the embedded reference stack unless
// REHEARSAL_TARGET says otherwise). Invariant: the healthy stack passes every
// ready scenario, and a stack with a named defect fails the scenarios that
// catch it. Its only code is the Ginkgo bootstrap in catalogue_suite_test.go.
//
// Import rule: Ginkgo, harness/config and scenarios/specs; nothing imports it.
package catalogue
