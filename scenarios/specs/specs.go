package specs

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gcustom"

	"rehearsal/harness/target"
	"rehearsal/reports/ginkgoreport"
	"rehearsal/scenarios"
	"rehearsal/scenarios/run"
)

// Options are what the suite knows when it declares the specs.
type Options struct {
	// Env returns the process's environment (built in BeforeSuite).
	Env func() *run.Env
	// EvidenceDir receives a folder per failed attempt.
	EvidenceDir func() string
	// Repro returns the one-line command that reruns a scenario.
	Repro func(sc *scenarios.Scenario) string
}

// Register declares one spec per scenario, grouped by id. Call it while the
// spec tree is being built (at the top level or in the suite's Test function
// before RunSpecs).
func Register(scs []*scenarios.Scenario, o Options) {
	byID := map[string][]*scenarios.Scenario{}
	var ids []string
	for _, sc := range scs {
		if _, ok := byID[sc.ID]; !ok {
			ids = append(ids, sc.ID)
		}
		byID[sc.ID] = append(byID[sc.ID], sc)
	}
	for _, id := range ids {
		group := byID[id]
		Describe(id, func() {
			for _, sc := range group {
				declare(sc, o)
			}
		})
	}
}

// SpecText is the spec's name under its id container: the title, and the
// variant when there is one.
func SpecText(sc *scenarios.Scenario) string {
	if sc.Variant == "" {
		return sc.Title
	}
	return sc.Title + " (" + sc.Variant + ")"
}

// FocusRegexp matches exactly this scenario's spec, for --focus. Ginkgo
// matches focus against the suite description, the container texts and the
// spec text joined by spaces, so the pattern is anchored at the end only.
func FocusRegexp(sc *scenarios.Scenario) string {
	return regexp.QuoteMeta(" "+sc.ID+" "+SpecText(sc)) + "$"
}

// moduleRoot is the repository root, from this file's place in it (the
// suites are built and run from the checkout).
var moduleRoot = func() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}()

// scenarioLocation points a scenario's spec at its YAML document instead of
// this file, so Ginkgo's output, the JUnit file attribute and editors lead to
// the scenario. Catalogue positions are relative to scenarios/.
func scenarioLocation(sc *scenarios.Scenario) types.CodeLocation {
	file := sc.Pos.File
	if !filepath.IsAbs(file) && moduleRoot != "" {
		if !strings.HasPrefix(file, "scenarios/") {
			file = filepath.Join("scenarios", file)
		}
		file = filepath.Join(moduleRoot, file)
	}
	return types.CodeLocation{FileName: file, LineNumber: sc.Pos.Line}
}

func declare(sc *scenarios.Scenario, o Options) {
	labels := Label(ginkgoLabels(sc)...)
	timeout := 2 * time.Minute
	if sc.Timeout != 0 {
		timeout = sc.Timeout.D()
	}
	It(SpecText(sc), labels, scenarioLocation(sc), SpecTimeout(scaledTimeout(timeout)), func(ctx SpecContext) {
		ginkgoreport.SetScenarioID(sc.Key())
		if o.Repro != nil {
			ginkgoreport.SetRepro(o.Repro(sc))
		}
		if sc.Status == scenarios.StatusDraft {
			Skip("draft scenario: " + sc.Note)
		}
		env := o.Env()
		if missing := env.Missing(sc); len(missing) > 0 {
			Skip(fmt.Sprintf("target %s lacks %s", env.Target.Name(), strings.Join(missing, ", ")))
		}
		t := env.Timeouts
		if r, ok := env.Target.(target.Renewer); ok {
			rctx, cancel := context.WithTimeout(ctx, t.Setup)
			Expect(r.Renew(rctx)).To(Succeed(), "renew the stack for this scenario")
			cancel()
		}
		sess, err := run.NewSession(ctx, env, sc)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(sess.Close(ctx)).To(Succeed(), "remove the scenario's faults and close its browser context")
		}, NodeTimeout(t.Setup))
		shots := &phaseShots{}
		// Registered last so it runs first: evidence before teardown.
		DeferCleanup(func(ctx SpecContext) {
			if !CurrentSpecReport().Failed() {
				return
			}
			dir := ""
			if o.EvidenceDir != nil {
				dir = o.EvidenceDir()
			}
			repro := ""
			if o.Repro != nil {
				repro = o.Repro(sc)
			}
			paths, err := collectEvidence(ctx, env, sess, sc, dir, CurrentSpecReport().NumAttempts, shots, repro)
			if len(paths) > 0 {
				ginkgoreport.AttachEvidence(paths...)
				fmt.Fprintf(GinkgoWriter, "evidence: %s\n", filepath.Dir(paths[0]))
			}
			if err != nil {
				fmt.Fprintf(GinkgoWriter, "evidence incomplete: %v\n", err)
			}
		}, NodeTimeout(t.Setup))

		for _, ph := range sc.Phases() {
			if len(ph.Steps) == 0 {
				continue
			}
			sess.SetPhase(ph.Name)
			By(ph.Name)
			for _, st := range ph.Steps {
				runStep(ctx, env, sess, st)
			}
			shots.take(ctx, sess, ph.Name)
		}
	})
}

// pass is Succeed for a check's error, printing the check's own message
// (what it wanted, what the page or the counters showed) instead of a dump
// of the error's Go value.
var pass = gcustom.MakeMatcher(func(err error) (bool, error) { return err == nil, nil }).
	WithTemplate("{{if .Actual}}{{.Actual.Error}}{{end}}")

// evaluate polls one expectation's check for Eventually or Consistently.
func evaluate(sess *run.Session, c scenarios.Check) func(context.Context) error {
	return func(ctx context.Context) error { return sess.Evaluate(ctx, c) }
}

func runStep(ctx SpecContext, env *run.Env, sess *run.Session, st scenarios.Step) {
	t := env.Timeouts
	where := fmt.Sprintf("%s at %s", st.Name, st.Pos)
	switch a := st.Action.(type) {
	case *scenarios.Expect:
		By(fmt.Sprintf("expect within %s (%s)", a.Within, st.Pos))
		Eventually(ctx, evaluate(sess, a.Check)).
			WithTimeout(t.ScaleDuration(a.Within.D())).WithPolling(t.Poll).
			Should(pass, where)
	case *scenarios.Wait:
		By(fmt.Sprintf("wait up to %s (%s)", a.Within, st.Pos))
		Eventually(ctx, evaluate(sess, a.Check)).
			WithTimeout(t.ScaleDuration(a.Within.D())).WithPolling(t.Poll).
			Should(pass, "precondition not reached: "+where)
	case *scenarios.Hold:
		By(fmt.Sprintf("hold for %s (%s)", a.For, st.Pos))
		// A hold is a window, not a bound, so it is not scaled.
		Consistently(ctx, evaluate(sess, a.Check)).
			WithTimeout(a.For.D()).WithPolling(t.Poll*2).
			Should(pass, where)
	default:
		fmt.Fprintf(GinkgoWriter, "step %s\n", where)
		err := sess.Do(ctx, st)
		if errors.Is(err, run.ErrUnsupported) {
			Skip(fmt.Sprintf("%s: %v", where, err))
		}
		var pe *run.PreconditionError
		if errors.As(err, &pe) {
			Fail(fmt.Sprintf("%s: %v", where, err))
		}
		Expect(err).NotTo(HaveOccurred(), where)
	}
}

// ginkgoLabels are the scenario's labels in the form Ginkgo accepts.
func ginkgoLabels(sc *scenarios.Scenario) []string {
	out := make([]string, 0, len(sc.Labels)+1)
	seen := map[string]bool{}
	for _, l := range append([]string{sc.ID}, sc.Labels...) {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	for _, d := range sc.Catches {
		if !seen["catches:"+d] {
			seen["catches:"+d] = true
			out = append(out, "catches:"+d)
		}
	}
	return out
}

// scaleFactor is set by the suite from its configuration before RunSpecs.
var scaleFactor = 1.0

// SetTimeoutScale scales every scenario's SpecTimeout.
func SetTimeoutScale(f float64) { scaleFactor = f }

func scaledTimeout(d time.Duration) time.Duration { return time.Duration(float64(d) * scaleFactor) }
