// Package ginkgoreport is the Ginkgo side of package reports: WriteAll to
// call from ReportAfterSuite, and AttachEvidence / SetScenarioID / SetRepro
// to call from specs so the reports can find their evidence.
//
// Import rule: Ginkgo, package reports and harness/redact. Only suites and
// the scenario runner import this package.
package ginkgoreport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"rehearsal/harness/redact"
	"rehearsal/reports"
)

// The files WriteAll writes into its output folder.
const (
	FileJUnit  = "junit.xml"
	FileHTML   = "report.html"
	FileReport = reports.TrendReportFile // report.json, what TrendFromDirs reads
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
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("ginkgoreport: create %s: %w", outDir, err)
	}
	absOut, err := filepath.Abs(outDir)
	if err != nil {
		return err
	}
	red := opts.Redactor
	if red == nil {
		red = redact.New()
	}
	ropts := reports.Options{RepoRoot: opts.RepoRoot, OutDir: absOut, Redactor: red}
	run := reports.Collect([]types.Report{report}, ropts)

	base := opts.AttachmentBase
	if base == "" {
		base = opts.RepoRoot
	}
	if base == "" && len(run.Suites) > 0 {
		base = reports.FindRepoRoot(report.SuitePath)
	}
	var errs []error

	var junit bytes.Buffer
	if err := reports.WriteJUnit(&junit, run, reports.JUnitOptions{AttachmentBase: base}); err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, writeFile(filepath.Join(absOut, FileJUnit), junit.Bytes()))
	}

	// report.json first, so the trend can include this run.
	raw, err := json.Marshal([]types.Report{report})
	if err == nil {
		raw, err = red.RedactJSON(raw)
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("ginkgoreport: encode %s: %w", FileReport, err))
	} else {
		errs = append(errs, writeFile(filepath.Join(absOut, FileReport), raw))
	}

	hopts := reports.HTMLOptions{Dir: absOut, Title: opts.Title}
	if len(opts.TrendDirs) > 0 {
		tr, err := reports.TrendFromDirs(append(append([]string(nil), opts.TrendDirs...), absOut))
		if err != nil {
			errs = append(errs, err)
		} else {
			hopts.Trend = &tr
		}
	}
	var page bytes.Buffer
	if err := reports.WriteHTML(&page, run, hopts); err != nil {
		errs = append(errs, fmt.Errorf("ginkgoreport: render HTML: %w", err))
	} else {
		errs = append(errs, writeFile(filepath.Join(absOut, FileHTML), page.Bytes()))
	}
	return errors.Join(errs...)
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

func writeFile(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("ginkgoreport: %w", err)
	}
	return nil
}
