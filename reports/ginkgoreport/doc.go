// Package ginkgoreport is the Ginkgo side of package reports: WriteAll to
// call from ReportAfterSuite, and AttachEvidence / SetScenarioID / SetRepro
// to call from specs so the reports can find their evidence.
//
// Import rule: Ginkgo, package reports and harness/redact. Only suites and
// the scenario runner import this package.
package ginkgoreport
