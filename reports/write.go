package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/onsi/ginkgo/v2/types"

	"rehearsal/harness/redact"
)

// The files WriteAll writes into its output folder.
const (
	FileJUnit = "junit.xml"
	FileHTML  = "report.html"
	// FileReport (report.json) is the redacted Ginkgo report, what the trend reads.
	FileReport = TrendReportFile
)

// WriteOptions adjust WriteAll.
type WriteOptions struct {
	// RepoRoot: see Options. Empty: found from the first suite's go.mod.
	RepoRoot string
	// Redactor holds the run's registered secrets. Nil: pattern rules only.
	Redactor *redact.Redactor
	// AttachmentBase: see JUnitOptions. Empty: the repo root.
	AttachmentBase string
	// TrendDirs are earlier runs' output folders, oldest first; when set, the
	// HTML report gets a trend section over them and this run.
	TrendDirs []string
	// Title heads the HTML page.
	Title string
}

// WriteAll merges Ginkgo reports (one per suite) and writes junit.xml,
// report.html and a redacted report.json into outDir. It returns what it
// collected, so callers can count specs.
func WriteAll(all []types.Report, outDir string, opts WriteOptions) (Run, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Run{}, fmt.Errorf("reports: create %s: %w", outDir, err)
	}
	absOut, err := filepath.Abs(outDir)
	if err != nil {
		return Run{}, err
	}
	red := opts.Redactor
	if red == nil {
		red = redact.New()
	}
	root := opts.RepoRoot
	for _, r := range all {
		if root != "" {
			break
		}
		root = FindRepoRoot(r.SuitePath)
	}
	run := Collect(all, Options{RepoRoot: root, OutDir: absOut, Redactor: red})
	base := opts.AttachmentBase
	if base == "" {
		base = root
	}
	write := func(name string, data []byte) error {
		if err := os.WriteFile(filepath.Join(absOut, name), data, 0o644); err != nil {
			return fmt.Errorf("reports: %w", err)
		}
		return nil
	}
	var errs []error
	var junit bytes.Buffer
	if err := WriteJUnit(&junit, run, JUnitOptions{AttachmentBase: base}); err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, write(FileJUnit, junit.Bytes()))
	}
	// report.json before the HTML, so the trend section includes this run.
	raw, err := json.Marshal(all)
	if err == nil {
		raw, err = red.RedactJSON(raw)
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("reports: encode %s: %w", FileReport, err))
	} else {
		errs = append(errs, write(FileReport, raw))
	}
	hopts := HTMLOptions{Dir: absOut, Title: opts.Title}
	if len(opts.TrendDirs) > 0 {
		tr, err := TrendFromDirs(append(append([]string(nil), opts.TrendDirs...), absOut))
		if err != nil {
			errs = append(errs, err)
		} else {
			hopts.Trend = &tr
		}
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, run, hopts); err != nil {
		errs = append(errs, fmt.Errorf("reports: render HTML: %w", err))
	} else {
		errs = append(errs, write(FileHTML, page.Bytes()))
	}
	return run, errors.Join(errs...)
}
