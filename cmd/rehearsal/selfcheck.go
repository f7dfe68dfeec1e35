package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/onsi/ginkgo/v2/types"
	"github.com/spf13/cobra"

	"rehearsal/reports"
	"rehearsal/scenarios"
)

func init() { extraCommands = append(extraCommands, selfcheckCmd) }

// Verdicts of one defect.
const (
	verdictCaught   = "caught"
	verdictUncaught = "UNCAUGHT"
)

// selfcheckResult is what selfcheck prints and writes as selfcheck.json.
type selfcheckResult struct {
	OK      bool           `json:"ok"`
	Healthy healthyResult  `json:"healthy"`
	Defects []defectResult `json:"defects"`
	Seconds float64        `json:"seconds"`
}

// healthyResult is the run of the same scenarios with no defect switched on:
// every one of them must pass.
type healthyResult struct {
	OK      bool     `json:"ok"`
	Ran     int      `json:"ran"`     // specs that ran (skips excluded)
	Failed  []string `json:"failed"`  // scenario keys (or suite nodes) that failed
	Problem string   `json:"problem"` // why not OK, in a sentence
	Dir     string   `json:"dir"`
	Seconds float64  `json:"seconds"`
}

// defectResult is one row of the selfcheck table.
type defectResult struct {
	Defect   string   `json:"defect"`
	Expected []string `json:"expected"` // ids of ready scenarios that list the defect in catches
	Failed   []string `json:"failed"`   // ids with at least one failed spec
	Missing  []string `json:"missing"`  // expected ids with no failed spec
	Verdict  string   `json:"verdict"`  // caught or UNCAUGHT
	Problem  string   `json:"problem,omitempty"`
	Dir      string   `json:"dir,omitempty"`
	Seconds  float64  `json:"seconds"`
}

type selfcheckOptions struct {
	asJSON  bool
	out     string
	defects []string
	procs   int
	timeout time.Duration
}

func selfcheckCmd() *cobra.Command {
	var o selfcheckOptions
	cmd := &cobra.Command{
		Use:   "selfcheck [--json] [--out DIR] [--defect NAME]... [--procs N]",
		Short: "Prove every named defect is caught by the rehearsals that claim to catch it",
		Long: `Build the catalogue suite once (go test -c), then run it:

  healthy   the ready scenarios that catch any of the defects checked, with no
            defect switched on: every one must pass;
  DEFECT    for each defect (all of them, or those given with --defect), the
            scenarios labelled catches:DEFECT, against a stack with that defect:
            every expected id must have at least one failed scenario.

Up to --procs runs go at once (each owns a stack and a browser). Each run writes
into --out/<name>/ (report.json, output.log, the suite's reports and evidence).
The table (or with --json, the same as JSON on stdout) shows per defect the
expected ids, the ids that failed and the verdict; selfcheck.json is always
written into --out. Ctrl-C interrupts every run and leaves nothing running.

Exit status: 0 when every defect is caught and the healthy run passes; 1 when a
defect is uncaught or the healthy run fails; 2 when the suite cannot be built
or selfcheck is not run inside a rehearsal checkout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return selfcheck(cmd, o) },
	}
	f := cmd.Flags()
	f.BoolVar(&o.asJSON, "json", false, "print the result as JSON on stdout (progress goes to stderr)")
	f.StringVar(&o.out, "out", "", "output folder (default <checkout>/out/selfcheck)")
	f.StringArrayVar(&o.defects, "defect", nil, "check only this defect (repeatable; default every defect)")
	f.IntVar(&o.procs, "procs", 2, "runs at once")
	f.DurationVar(&o.timeout, "timeout", 0, "hard bound for each run (default 3m plus 2m per scenario in it)")
	return cmd
}

func selfcheck(cmd *cobra.Command, o selfcheckOptions) error {
	start := time.Now()
	logw := cmd.ErrOrStderr()
	if err := checkDefects(o.defects); err != nil {
		return err
	}
	if o.procs < 1 {
		return fmt.Errorf("--procs must be at least 1")
	}
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := moduleRoot(cwd)
	if err != nil {
		return fmt.Errorf("selfcheck: %w", err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("selfcheck: no go on PATH; it builds the catalogue suite with the Go toolchain named in go.mod")
	}
	cat, err := scenarios.Catalogue()
	if err != nil {
		return fmt.Errorf("selfcheck: the embedded catalogue does not parse:\n%w", err)
	}
	defects := o.defects
	if len(defects) == 0 {
		defects = scenarios.Defects()
	}
	out := o.out
	if out == "" {
		out = filepath.Join(root, "out", "selfcheck")
	}
	if out, err = filepath.Abs(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}

	ctx := cmd.Context()
	bin := filepath.Join(out, "catalogue.test")
	fmt.Fprintf(logw, "selfcheck: building the catalogue suite into %s\n", bin)
	bctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	build := exec.Command(goBin, "test", "-c", "-o", bin, "./suites/catalogue")
	build.Dir, build.Stdout, build.Stderr = root, logw, logw
	code, err := runChild(bctx, build)
	cancel()
	if err != nil || code != 0 {
		return fmt.Errorf("selfcheck: go test -c ./suites/catalogue failed (exit %d, %v); fix the build first", code, err)
	}

	res := selfcheckResult{Defects: make([]defectResult, len(defects))}
	type job struct {
		name, filter, defect string
		specs                int
		done                 func(reps []types.Report, exit int, runErr error, secs float64)
	}
	var jobs []job
	healthyKeys := 0
	for _, sc := range cat {
		if sc.Status != scenarios.StatusDraft && slices.ContainsFunc(sc.Catches, func(d string) bool { return slices.Contains(defects, d) }) {
			healthyKeys++
		}
	}
	res.Healthy.Dir = filepath.Join(out, "healthy")
	jobs = append(jobs, job{name: "healthy", filter: catchesFilter(defects), specs: healthyKeys,
		done: func(reps []types.Report, exit int, runErr error, secs float64) {
			res.Healthy = healthyVerdict(reps, exit, runErr)
			res.Healthy.Dir, res.Healthy.Seconds = filepath.Join(out, "healthy"), secs
		}})
	for i, d := range defects {
		expected, keys := expectedIDs(cat, d)
		res.Defects[i] = defectResult{Defect: d, Expected: expected, Verdict: verdictUncaught, Failed: []string{}, Missing: expected}
		if len(expected) == 0 {
			res.Defects[i].Problem = "no ready scenario lists it in catches"
			continue
		}
		i, d := i, d
		jobs = append(jobs, job{name: d, filter: catchesFilter([]string{d}), defect: d, specs: keys,
			done: func(reps []types.Report, exit int, runErr error, secs float64) {
				r := defectVerdict(d, res.Defects[i].Expected, reps, runErr)
				r.Dir, r.Seconds = filepath.Join(out, d), secs
				res.Defects[i] = r
			}})
	}

	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.procs)
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		if ctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		go func(j job) {
			defer func() { <-sem; wg.Done() }()
			timeout := o.timeout
			if timeout == 0 {
				timeout = 3*time.Minute + time.Duration(j.specs)*2*time.Minute
			}
			mu.Lock()
			fmt.Fprintf(logw, "selfcheck: %s: running %d scenario(s) (bound %s)\n", j.name, j.specs, timeout)
			mu.Unlock()
			t0 := time.Now()
			reps, exit, runErr := runCatalogue(ctx, bin, filepath.Join(root, "suites", "catalogue"), filepath.Join(out, j.name), j.filter, j.defect, timeout)
			secs := time.Since(t0).Seconds()
			mu.Lock()
			defer mu.Unlock()
			j.done(reps, exit, runErr, secs)
			fmt.Fprintf(logw, "selfcheck: %s: finished in %.0fs\n", j.name, secs)
		}(j)
	}
	wg.Wait()
	if ctx.Err() != nil {
		for i := range res.Defects {
			if res.Defects[i].Dir == "" && res.Defects[i].Problem == "" {
				res.Defects[i].Problem = "not run: interrupted"
			}
		}
		if res.Healthy.Problem == "" && !res.Healthy.OK {
			res.Healthy.Problem = "not run: interrupted"
		}
	}

	res.OK = res.Healthy.OK
	for _, d := range res.Defects {
		if d.Verdict != verdictCaught {
			res.OK = false
		}
	}
	res.Seconds = time.Since(start).Seconds()

	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	raw = append(raw, '\n')
	if err := os.WriteFile(filepath.Join(out, "selfcheck.json"), raw, 0o644); err != nil {
		return err
	}
	if o.asJSON {
		_, err = cmd.OutOrStdout().Write(raw)
	} else {
		err = writeSelfcheckTable(cmd.OutOrStdout(), res)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(logw, "selfcheck: %s in %.0fs\n", filepath.Join(out, "selfcheck.json"), res.Seconds)
	if !o.asJSON {
		// A plain closing line CI systems read: each defect caught, and the
		// healthy run, count as one check.
		passed, failed := 0, 0
		for _, d := range res.Defects {
			if d.Verdict == verdictCaught {
				passed++
			} else {
				failed++
			}
		}
		if res.Healthy.OK {
			passed++
		} else {
			failed++
		}
		fmt.Fprintf(cmd.OutOrStdout(), "selfcheck: %d passed, %d failed\n", passed, failed)
	}
	if !res.OK {
		return exitError{1}
	}
	return nil
}

// catchesFilter selects the specs labelled catches:NAME for any of names
// (Ginkgo label sets: a label "key:value" is the set key: {value}).
func catchesFilter(names []string) string {
	return "catches: containsAny {" + strings.Join(names, ", ") + "}"
}

// expectedIDs are the ids of ready scenarios that list defect in catches,
// sorted, and how many scenarios (variants) that is.
func expectedIDs(cat []*scenarios.Scenario, defect string) ([]string, int) {
	ids := []string{}
	n := 0
	for _, sc := range cat {
		if sc.Status == scenarios.StatusDraft || !slices.Contains(sc.Catches, defect) {
			continue
		}
		n++
		if !slices.Contains(ids, sc.ID) {
			ids = append(ids, sc.ID)
		}
	}
	sort.Strings(ids)
	return ids, n
}

// runCatalogue runs the built catalogue suite once in its package folder and
// loads the JSON report it wrote.
func runCatalogue(ctx context.Context, bin, pkgDir, dir, filter, defect string, timeout time.Duration) ([]types.Report, int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, -1, err
	}
	report := filepath.Join(dir, fileReport)
	_ = os.Remove(report) // never read a previous run's report
	logf, err := os.Create(filepath.Join(dir, "output.log"))
	if err != nil {
		return nil, -1, err
	}
	defer logf.Close()
	args := []string{
		"-ginkgo.label-filter=" + filter,
		"-ginkgo.json-report=" + report,
		"-ginkgo.timeout=" + timeout.String(),
		"-ginkgo.poll-progress-after=60s",
		"-ginkgo.no-color",
		"-test.timeout=" + (timeout + time.Minute).String(),
		"--rehearsal.defects=" + defect,
		"--rehearsal.out=" + dir,
	}
	c := exec.Command(bin, args...)
	c.Dir, c.Stdout, c.Stderr = pkgDir, logf, logf
	// The suite's own settings come from REHEARSAL_*: drop any defects or
	// incident files the caller's environment would add.
	c.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "REHEARSAL_DEFECTS=") || strings.HasPrefix(kv, "REHEARSAL_SCENARIOS=") || strings.HasPrefix(kv, "REHEARSAL_OUT=")
	})
	fmt.Fprintf(logf, "# cd %s && %s %s\n", pkgDir, bin, strings.Join(quoteAll(args), " "))
	cctx, cancel := context.WithTimeout(ctx, timeout+2*time.Minute)
	defer cancel()
	exit, runErr := runChild(cctx, c)
	reps, err := reports.Load(report)
	if err != nil && runErr == nil {
		runErr = fmt.Errorf("no report (exit %d): see %s", exit, filepath.Join(dir, "output.log"))
	}
	return reps, exit, runErr
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " {}'\"") {
			a = strconv.Quote(a)
		}
		out[i] = a
	}
	return out
}

// caughtStates are the spec states that show a rehearsal caught a defect.
// An interrupted or aborted spec proves nothing: the run was stopped.
var caughtStates = types.SpecStateFailed | types.SpecStateTimedout | types.SpecStatePanicked

// specID is the catalogue id of a spec: its first label (the runner puts the
// id first), else the id from the reports package without the variant.
func specID(sr types.SpecReport) string {
	if ls := sr.Labels(); len(ls) > 0 {
		return ls[0]
	}
	id, _, _ := strings.Cut(reports.ScenarioID(sr), "/")
	return id
}

// defectVerdict decides one defect: caught when every expected id has at least
// one spec that failed. runErr (a timeout, an interrupt, no report) is kept as
// the problem.
func defectVerdict(defect string, expected []string, reps []types.Report, runErr error) defectResult {
	r := defectResult{Defect: defect, Expected: expected, Failed: []string{}, Missing: []string{}}
	var suiteProblems []string
	for _, rep := range reps {
		for _, sr := range rep.SpecReports {
			if sr.LeafNodeType != types.NodeTypeIt {
				if sr.State.Is(types.SpecStateFailureStates) {
					suiteProblems = append(suiteProblems, fmt.Sprintf("%s %s: %s", sr.LeafNodeType, sr.State, firstLine(sr.Failure.Message)))
				}
				continue
			}
			if sr.State.Is(caughtStates) {
				if id := specID(sr); !slices.Contains(r.Failed, id) {
					r.Failed = append(r.Failed, id)
				}
			}
		}
	}
	sort.Strings(r.Failed)
	for _, id := range expected {
		if !slices.Contains(r.Failed, id) {
			r.Missing = append(r.Missing, id)
		}
	}
	r.Verdict = verdictCaught
	if len(expected) == 0 || len(r.Missing) > 0 {
		r.Verdict = verdictUncaught
	}
	var probs []string
	if len(expected) == 0 {
		probs = append(probs, "no ready scenario lists it in catches")
	}
	if runErr != nil {
		probs = append(probs, runErr.Error())
	}
	probs = append(probs, suiteProblems...)
	r.Problem = strings.Join(probs, "; ")
	return r
}

// healthyVerdict checks the run without defects: every spec that ran passed,
// no suite-level node failed, and the suite exited 0.
func healthyVerdict(reps []types.Report, exit int, runErr error) healthyResult {
	h := healthyResult{Failed: []string{}}
	for _, rep := range reps {
		for _, sr := range rep.SpecReports {
			if sr.LeafNodeType == types.NodeTypeIt && sr.State.Is(types.SpecStatePassed|types.SpecStateFailureStates) {
				h.Ran++
			}
			if !sr.State.Is(types.SpecStateFailureStates) {
				continue
			}
			name := sr.LeafNodeType.String()
			if sr.LeafNodeType == types.NodeTypeIt {
				if name = reports.ScenarioID(sr); name == "" {
					name = sr.FullText()
				}
			}
			h.Failed = append(h.Failed, name)
		}
	}
	switch {
	case runErr != nil:
		h.Problem = runErr.Error()
	case len(reps) == 0:
		h.Problem = "no report"
	case len(h.Failed) > 0:
		h.Problem = "failed on the healthy stack: " + strings.Join(h.Failed, ", ")
	case exit != 0:
		h.Problem = fmt.Sprintf("the suite exited %d with no failed spec; see output.log", exit)
	}
	h.OK = h.Problem == ""
	return h
}

func writeSelfcheckTable(w io.Writer, res selfcheckResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DEFECT\tEXPECTED\tFAILED\tVERDICT")
	for _, d := range res.Defects {
		v := d.Verdict
		if len(d.Missing) > 0 && len(d.Expected) > 0 {
			v += " (missing " + strings.Join(d.Missing, ", ") + ")"
		}
		if d.Problem != "" {
			v += " — " + d.Problem
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Defect, orDash(strings.Join(d.Expected, ",")), orDash(strings.Join(d.Failed, ",")), v)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.Healthy.OK {
		fmt.Fprintf(w, "healthy: ok, %d scenario(s) passed with no defect\n", res.Healthy.Ran)
	} else {
		fmt.Fprintf(w, "healthy: PROBLEM: %s\n", orDash(res.Healthy.Problem))
	}
	if res.OK {
		fmt.Fprintln(w, "selfcheck: every defect caught")
	} else {
		fmt.Fprintln(w, "selfcheck: FAILED")
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
