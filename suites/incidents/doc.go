// Package incidents is the suite that runs incident files written by
// engineers reproducing a production incident: REHEARSAL_SCENARIOS (or
// --rehearsal.scenarios) names files or directories of scenarios in the
// catalogue's format. With none named it has nothing to run. Its only code is
// the Ginkgo bootstrap in incidents_suite_test.go.
//
// Import rule: Ginkgo, harness/config and scenarios/specs; nothing imports it.
package incidents
