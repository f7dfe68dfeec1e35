// Package specs turns scenarios into Ginkgo specs: one spec per scenario,
// labelled with its id and registry labels, bounded by a SpecTimeout, its
// phases narrated with By, expectations polled with Eventually or held with
// Consistently, every fault removed by DeferCleanup, and evidence collected
// for a failed attempt before anything is torn down.
//
// Import rule: scenarios, scenarios/run, harness and reports packages, Ginkgo
// and Gomega. Only suites import it.
package specs
