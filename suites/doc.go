// Package suites holds the Ginkgo test packages, one per environment:
//
//	catalogue  every scenario of the embedded catalogue against the target
//	incidents  the incident files named by REHEARSAL_SCENARIOS (files or directories)
//
// Suites are thin: flags and configuration, then scenarios/specs.RunSuite.
// No selectors, toxic attributes or sleeps live here. Nothing imports suites.
package suites
