// Package reports turns Ginkgo's report (types.Report, from ReportAfterSuite
// or the JSON of --json-report) and the evidence bundles its specs point to
// into what people and CI read:
//
//   - JUnit XML written by us (WriteJUnit): stable names without labels, a
//     classname per suite and scenario group ("suites/baseline.TOK"), a file
//     attribute, the scenario id as a property, [[ATTACHMENT|path]] lines for
//     evidence, and Surefire's flakyFailure/rerunFailure elements for retries;
//   - one HTML page (WriteHTML): counts, a label filter, and every failed or
//     flaky spec with its screenshots, timelines and repro command;
//   - a flake trend across runs (Trend, TrendFromDirs) as Markdown and HTML.
//
// Specs tell the reports about themselves through report entries: "evidence"
// (a path to an evidence file or bundle folder; one entry per path),
// "scenario-id" (else the first label shaped like TOK-01 is the id) and
// "repro" (else the bundle's repro.txt, else a ginkgo --focus command).
//
// Everything written passes through harness/redact.
//
// Import rule: Ginkgo's types package, harness/redact and harness/evidence,
// and the standard library. Only the subpackage ginkgoreport imports Ginkgo's
// DSL. Nothing here imports scenarios, suites or cmd.
package reports
