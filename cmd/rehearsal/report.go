package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/onsi/ginkgo/v2/types"
	"github.com/spf13/cobra"

	"rehearsal/reports"
)

func init() { extraCommands = append(extraCommands, reportCmd) }

// The files `rehearsal report` writes into its output folder (the same names
// the suites' own ReportAfterSuite uses).
const (
	fileJUnit  = reports.FileJUnit
	fileHTML   = reports.FileHTML
	fileReport = reports.FileReport // report.json, redacted: what the trend reads
)

func reportCmd() *cobra.Command {
	var out, title string
	var trendDirs []string
	cmd := &cobra.Command{
		Use:   "report [--out DIR] REPORT.json...",
		Short: "Turn Ginkgo JSON reports into JUnit and an HTML report (and `report trend` for flake trends)",
		Long: `Read Ginkgo JSON reports (what ginkgo --json-report writes; several are merged)
and write into --out:

  junit.xml     JUnit for CI: stable names, scenario ids, evidence attachments, flaky marks
  report.html   one page: counts, label filter, each failure with screenshots and repro
  report.json   the merged Ginkgo report, redacted (what report trend reads)

Everything written passes through the harness redactor (tokens, codes, cookies,
secrets). Ginkgo's own report files are not redacted; publish these instead.
--trend DIR (repeatable, oldest first) adds a flake-trend section over those
earlier run folders and this one to the HTML page.

Exit status: 0 when the reports were written, 2 when an input cannot be read or
an output cannot be written. The suites' pass or fail does not change it.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := writeReports(args, out, title, trendDirs)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "reports: %s, %s, %s (%d spec(s) from %d file(s))\n",
				filepath.Join(out, fileJUnit), filepath.Join(out, fileHTML), filepath.Join(out, fileReport), n, len(args))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "out", "folder to write junit.xml, report.html and report.json into")
	cmd.Flags().StringVar(&title, "title", "", "heading of the HTML page (default \"Rehearsal report\")")
	cmd.Flags().StringArrayVar(&trendDirs, "trend", nil, "earlier run folder for the HTML trend section, oldest first (repeatable)")
	cmd.AddCommand(trendCmd())
	return cmd
}

// writeReports merges the Ginkgo JSON reports in inputs and writes junit.xml,
// report.html and a redacted report.json into out. It returns the number of
// specs collected.
func writeReports(inputs []string, out, title string, trendDirs []string) (int, error) {
	var all []types.Report
	for _, in := range inputs {
		reps, err := reports.Load(in)
		if err != nil {
			return 0, fmt.Errorf("%s: %w; give the file ginkgo --json-report wrote", in, err)
		}
		all = append(all, reps...)
	}
	run, err := reports.WriteAll(all, out, reports.WriteOptions{Title: title, TrendDirs: trendDirs})
	n := 0
	for _, s := range run.Suites {
		n += len(s.Specs)
	}
	return n, err
}

func trendCmd() *cobra.Command {
	var htmlFile string
	cmd := &cobra.Command{
		Use:   "trend DIR...",
		Short: "Print the flake trend over run folders as Markdown (for a CI job summary)",
		Long: `Read DIR/report.json from each run folder, oldest first (dated folder names sort
that way), and print per scenario: runs, failures, flake rate, p50 and p95 duration,
the status history, and new failures since the last green run, as Markdown.
--html FILE also writes the trend as an HTML page.

Exit status: 0 when printed, 2 when a folder has no readable report.json.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, dirs []string) error {
			tr, err := reports.TrendFromDirs(dirs)
			if err != nil {
				return err
			}
			if err := tr.WriteMarkdown(cmd.OutOrStdout()); err != nil {
				return err
			}
			if htmlFile == "" {
				return nil
			}
			dir, err := filepath.Abs(filepath.Dir(htmlFile))
			if err != nil {
				return err
			}
			var page bytes.Buffer
			if err := reports.WriteHTML(&page, reports.Run{}, reports.HTMLOptions{Dir: dir, Title: "Rehearsal flake trend", Trend: &tr}); err != nil {
				return err
			}
			return os.WriteFile(htmlFile, page.Bytes(), 0o644)
		},
	}
	cmd.Flags().StringVar(&htmlFile, "html", "", "also write the trend as an HTML page to this file")
	return cmd
}
