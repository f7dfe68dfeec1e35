package ginkgoreport

import (
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"rehearsal/harness/redact"
	"rehearsal/reports"
)

// The files WriteAll writes into its output folder.
const (
	FileJUnit  = reports.FileJUnit
	FileHTML   = reports.FileHTML
	FileReport = reports.FileReport // report.json, what TrendFromDirs reads
)

// Options adjust WriteAll.
type Options struct {
	// RepoRoot: see reports.Options. Empty: found from go.mod.
	RepoRoot string
	// Redactor: the run's redactor, holding every secret the harness
	// registered. Nil: pattern rules only.
	Redactor *redact.Redactor
	// AttachmentBase: see reports.JUnitOptions. Empty: RepoRoot, or the
	// repo root found from go.mod.
	AttachmentBase string
	// TrendDirs are earlier runs' output folders, oldest first; when set, the
	// HTML report gets a trend section over them and this run.
	TrendDirs []string
	// Title heads the HTML page.
	Title string
}

// WriteAll writes junit.xml, report.html and report.json (the Ginkgo
// report as []types.Report, redacted) into outDir. Call it from
// ReportAfterSuite; with ginkgo -p that runs once, on process 1, with the
// aggregated report:
//
//	var _ = ReportAfterSuite("reports", func(r Report) {
//		Expect(ginkgoreport.WriteAll(r, cfg.OutDir, ginkgoreport.Options{Redactor: env.Redactor})).To(Succeed())
//	})
func WriteAll(report types.Report, outDir string, opts Options) error {
	_, err := reports.WriteAll([]types.Report{report}, outDir, reports.WriteOptions{
		RepoRoot: opts.RepoRoot, Redactor: opts.Redactor, AttachmentBase: opts.AttachmentBase,
		TrendDirs: opts.TrendDirs, Title: opts.Title,
	})
	return err
}

// AttachEvidence adds one "evidence" report entry per path (files or an
// evidence bundle folder) to the current spec. Paths should be absolute:
// relative ones are read relative to the suite's folder.
func AttachEvidence(paths ...string) {
	for _, p := range paths {
		ginkgo.AddReportEntry(reports.EntryEvidence, p, types.ReportEntryVisibilityNever)
	}
}

// SetScenarioID records the current spec's scenario id when it is not one
// of its labels.
func SetScenarioID(id string) {
	ginkgo.AddReportEntry(reports.EntryScenarioID, id, types.ReportEntryVisibilityNever)
}

// SetRepro records the current spec's one-line repro command.
func SetRepro(command string) {
	ginkgo.AddReportEntry(reports.EntryRepro, command, types.ReportEntryVisibilityNever)
}
