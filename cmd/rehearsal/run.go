package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"
	"github.com/spf13/cobra"

	"rehearsal/harness/config"
	"rehearsal/reports"
	"rehearsal/scenarios"
	"rehearsal/scenarios/specs"
)

func init() { extraCommands = append(extraCommands, runCmd) }

// runOptions are the flags of `rehearsal run`.
type runOptions struct {
	seed        int64
	repeat      int
	defects     []string
	out         string
	focus       string
	labelFilter string
	procs       int
	timeout     time.Duration
}

func runCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run FILE|DIR... [flags]",
		Short: "Run scenario files (incident files) against the target",
		Long: `Validate the scenario files (as rehearsal validate does; any problem stops here
with exit status 1), then run them as the incidents suite through the Ginkgo CLI
pinned in go.mod (go tool ginkgo), from the root of the rehearsal checkout this is
invoked in. The target is the embedded reference stack unless REHEARSAL_TARGET
names a target file; other REHEARSAL_* settings pass through.

Written into --out: Ginkgo's report.json and ginkgo-junit.xml, the suite's own
reports in incidents/, evidence/ for failed specs, and then the combined
junit.xml, report.html and (redacted) report.json, as rehearsal report writes them.

--focus takes a regular expression over "ID title (variant)", or simply a scenario
key such as TOK-04/as-down or an id such as INC-01 (the repro line printed for a
failed spec uses that form). --repeat N is Ginkgo's: run N more times after the
first, stopping at the first failure; with --seed every repetition uses that seed.

Ctrl-C (or SIGTERM) interrupts the run: Ginkgo runs the cleanup (faults removed,
browser and stack stopped) and writes its report; whatever is still running
after 45 s is killed.

Exit status: the suite's (0 passed, 1 failed or interrupted), 1 for invalid
files, 2 when the run could not start (not in a checkout, no Go toolchain).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIncidents(cmd, args, o)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&o.seed, "seed", 0, "Ginkgo random seed, to replay a run's order (default: a new seed)")
	f.IntVar(&o.repeat, "repeat", 0, "run the suite N more times after the first, stopping at the first failure")
	f.StringArrayVar(&o.defects, "defect", nil, "switch on a defect in the embedded stack (repeatable; added to REHEARSAL_DEFECTS; names in docs/defects.md)")
	f.StringVar(&o.out, "out", "", "output folder for reports and evidence (default <checkout>/out/run)")
	f.StringVar(&o.focus, "focus", "", "run only specs matching this regular expression, scenario key or id")
	f.StringVar(&o.labelFilter, "label-filter", "", "Ginkgo label filter, e.g. 'flow:refresh && !tier:extended'")
	f.IntVar(&o.procs, "procs", 1, "parallel Ginkgo processes (each owns a stack and a browser)")
	f.DurationVar(&o.timeout, "timeout", 30*time.Minute, "hard bound for the whole run")
	return cmd
}

func runIncidents(cmd *cobra.Command, args []string, o runOptions) error {
	stderr := cmd.ErrOrStderr()
	scs, err := loadScenarioFiles(args)
	if probs := scenarios.Problems(err); len(probs) > 0 {
		for _, p := range probs {
			fmt.Fprintln(stderr, p.String())
		}
		fmt.Fprintf(stderr, "%d problem(s) found; nothing was run (fix the files, check them with rehearsal validate)\n", len(probs))
		return exitError{1}
	}
	if err != nil {
		return err
	}
	// REHEARSAL_DEFECTS from the environment counts too, as for the suites:
	// a repro line written as REHEARSAL_DEFECTS=... rehearsal run ... must
	// run with that defect, not replace it with the empty --defect list.
	o.defects = append(config.SplitList(os.Getenv("REHEARSAL_DEFECTS")), o.defects...)
	if err := checkDefects(o.defects); err != nil {
		return err
	}
	if o.procs < 1 || o.repeat < 0 || o.timeout <= 0 {
		return fmt.Errorf("--procs must be at least 1, --repeat at least 0 and --timeout positive")
	}
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := moduleRoot(cwd)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("run: no go on PATH; it runs the suites with the Go toolchain named in go.mod (install Go, then run make setup)")
	}
	files, err := scenarioPaths(args)
	if err != nil {
		return err
	}
	if files, err = absPaths(files); err != nil {
		return err
	}
	out := o.out
	if out == "" {
		out = filepath.Join(root, "out", "run")
	}
	if out, err = filepath.Abs(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}

	gargs := []string{"tool", "ginkgo",
		"--timeout=" + o.timeout.String(), "--poll-progress-after=60s",
		"--json-report=report.json", "--junit-report=ginkgo-junit.xml", "--output-dir=" + out}
	if cmd.Flags().Changed("seed") {
		gargs = append(gargs, "--seed="+strconv.FormatInt(o.seed, 10))
	}
	if o.repeat > 0 {
		gargs = append(gargs, "--repeat="+strconv.Itoa(o.repeat))
	}
	if o.procs > 1 {
		gargs = append(gargs, "--procs="+strconv.Itoa(o.procs))
	}
	if o.focus != "" {
		gargs = append(gargs, "--focus="+focusFor(o.focus, scs))
	}
	if o.labelFilter != "" {
		gargs = append(gargs, "--label-filter="+o.labelFilter)
	}
	gargs = append(gargs, "./suites/incidents")

	c := exec.Command(goBin, gargs...)
	c.Dir = root
	c.Stdout, c.Stderr = cmd.OutOrStdout(), stderr
	c.Env = append(os.Environ(),
		"REHEARSAL_SCENARIOS="+strings.Join(files, string(os.PathListSeparator)),
		"REHEARSAL_DEFECTS="+strings.Join(o.defects, ","),
		"REHEARSAL_OUT="+out)
	fmt.Fprintf(stderr, "rehearsal run: %d scenario(s) from %d file(s); in %s: go %s\n", len(scs), len(files), root, strings.Join(gargs, " "))

	// Compiling the suite comes on top of Ginkgo's own --timeout.
	ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout+5*time.Minute)
	defer cancel()
	code, runErr := runChild(ctx, c)
	if runErr != nil {
		fmt.Fprintf(stderr, "rehearsal run: %v\n", runErr)
	}

	reportFile := filepath.Join(out, fileReport)
	if _, err := os.Stat(reportFile); err != nil {
		fmt.Fprintf(stderr, "rehearsal run: Ginkgo wrote no %s (the suite did not run; see the output above)\n", reportFile)
	} else if _, err := writeReports([]string{reportFile}, out, "rehearsal run", nil); err != nil {
		fmt.Fprintf(stderr, "rehearsal run: reports: %v\n", err)
		if code == 0 {
			code = 2
		}
	} else {
		fmt.Fprintf(stderr, "reports: %s %s; evidence: %s\n",
			filepath.Join(out, fileJUnit), filepath.Join(out, fileHTML), filepath.Join(out, "evidence"))
	}
	if code == 0 && (o.focus != "" || o.labelFilter != "") {
		if n, err := ranSpecs(reportFile); err == nil && n == 0 {
			fmt.Fprintf(stderr, "rehearsal run: no spec matched --focus %q --label-filter %q, so nothing was rehearsed; rehearsal list FILE... shows the ids and variants (a key is ID/variant)\n", o.focus, o.labelFilter)
			code = 1
		}
	}
	switch {
	case code == 0 && runErr != nil:
		return exitError{1}
	case code < 0:
		return exitError{1}
	case code != 0:
		return exitError{code}
	}
	return nil
}

// ranSpecs counts the specs of a Ginkgo JSON report that ran (neither
// skipped nor pending).
func ranSpecs(reportFile string) (int, error) {
	reps, err := reports.Load(reportFile)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range reps {
		for _, sp := range r.SpecReports {
			if sp.LeafNodeType == types.NodeTypeIt && sp.State != types.SpecStateSkipped && sp.State != types.SpecStatePending {
				n++
			}
		}
	}
	return n, nil
}

// focusFor turns a scenario key (TOK-04/as-down) or id (INC-01) into the
// regular expression matching its spec; anything else is used as given.
func focusFor(focus string, scs []*scenarios.Scenario) string {
	var byID []string
	for _, sc := range scs {
		if sc.Key() == focus {
			return specFocus(sc)
		}
		if sc.ID == focus {
			byID = append(byID, specFocus(sc))
		}
	}
	if len(byID) > 0 {
		return strings.Join(byID, "|")
	}
	return focus
}

// specFocus matches exactly one scenario's spec. Ginkgo matches --focus
// against "<suite description> <container texts> <spec text>", so the
// expression is anchored at the end and after a space, not at the start.
func specFocus(sc *scenarios.Scenario) string {
	return `(^|\s)` + regexp.QuoteMeta(sc.ID+" "+specs.SpecText(sc)) + "$"
}

// checkDefects rejects names that are not defects of the reference stack.
func checkDefects(names []string) error {
	var bad []string
	for _, d := range names {
		if !scenarios.IsDefect(d) {
			bad = append(bad, d)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("unknown defect(s) %s; expected names from: %s",
			strings.Join(bad, ", "), strings.Join(scenarios.Defects(), ", "))
	}
	return nil
}
