package reports

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"rehearsal/harness/redact"
)

// TrendReportFile is the file TrendFromDirs reads in each run folder: the
// Ginkgo JSON report ([]types.Report) of that run.
const TrendReportFile = "report.json"

// TrendRun is one run in a trend.
type TrendRun struct {
	Name  string // the run folder's name, or "run N"
	Start time.Time
	Green bool // every suite succeeded
}

// TrendReport is the flake trend across runs, oldest first.
type TrendReport struct {
	Runs      []TrendRun
	Scenarios []ScenarioTrend
	// LastGreen indexes Runs: the newest green run before the latest one,
	// -1 if there is none in the window.
	LastGreen int
	// NewFailures are the keys of scenarios failing in the latest run that
	// passed in the last green run (or did not exist then).
	NewFailures []string
}

// ScenarioTrend is one scenario (or, without an id, one spec) across runs.
type ScenarioTrend struct {
	Suite string // suite path, "suites/baseline"
	Key   string // scenario id, else the spec name
	Name  string // the spec name in the latest run it ran in
	// Runs counts the runs in which it ran (skipped and pending do not count).
	Runs, Passed, Failures, Flakes int
	// FlakeRate is Flakes / Runs: how often it passed only after a retry.
	FlakeRate float64
	P50, P95  time.Duration
	Last      Status   // its status in the latest run ("" if absent)
	History   []Status // per run, oldest first; "" where absent
	// NewFailure is set when it fails in the latest run but passed (or did
	// not exist) in the last green run.
	NewFailure bool
}

// Trend computes the flake trend of several runs, oldest first; each run is
// the Ginkgo reports of one run (one per suite).
func Trend(runs [][]types.Report) TrendReport {
	named := make([]namedRun, len(runs))
	for i, r := range runs {
		named[i] = namedRun{name: fmt.Sprintf("run %d", i+1), reports: r}
	}
	return trend(named)
}

// TrendFromDirs reads DIR/report.json from each run folder, oldest first
// (dated folder names such as out/2026-12-03T0200Z sort that way), and
// computes the trend. A folder without a readable report is an error that
// names it.
func TrendFromDirs(dirs []string) (TrendReport, error) {
	named := make([]namedRun, 0, len(dirs))
	for _, d := range dirs {
		reps, err := Load(filepath.Join(d, TrendReportFile))
		if err != nil {
			return TrendReport{}, fmt.Errorf("reports: trend: run folder %s: %w (each run folder needs the Ginkgo JSON report as %s)", d, err, TrendReportFile)
		}
		named = append(named, namedRun{name: filepath.Base(filepath.Clean(d)), reports: reps})
	}
	return trend(named), nil
}

type namedRun struct {
	name    string
	reports []types.Report
}

type observation struct {
	status   Status
	duration time.Duration
	name     string
}

func trend(runs []namedRun) TrendReport {
	tr := TrendReport{LastGreen: -1}
	red := redact.New() // names and ids are shown: pattern rules apply
	type key struct{ suite, id string }
	obs := map[key][]observation{} // per scenario, one slot per run
	var order []key
	for i, run := range runs {
		tr.Runs = append(tr.Runs, TrendRun{Name: run.name, Green: len(run.reports) > 0})
		for _, rep := range run.reports {
			if tr.Runs[i].Start.IsZero() || rep.StartTime.Before(tr.Runs[i].Start) {
				tr.Runs[i].Start = rep.StartTime
			}
			tr.Runs[i].Green = tr.Runs[i].Green && rep.SuiteSucceeded
			suite := suitePath(FindRepoRoot(rep.SuitePath), rep.SuitePath)
			for _, sr := range rep.SpecReports {
				if sr.LeafNodeType != types.NodeTypeIt {
					continue
				}
				k := key{red.Redact(suite), red.Redact(ScenarioID(sr))}
				if k.id == "" {
					k.id = red.Redact(SpecName(sr))
				}
				if _, ok := obs[k]; !ok {
					obs[k] = make([]observation, len(runs))
					order = append(order, k)
				}
				o := observation{status: StatusOf(sr), duration: sr.RunTime, name: red.Redact(SpecName(sr))}
				// Two specs sharing an id in one run: the worse status wins.
				if prev := obs[k][i]; prev.status == "" || rank(o.status) > rank(prev.status) {
					obs[k][i] = o
				}
			}
		}
	}
	latest := len(runs) - 1
	for i := latest - 1; i >= 0; i-- {
		if tr.Runs[i].Green {
			tr.LastGreen = i
			break
		}
	}
	for _, k := range order {
		st := ScenarioTrend{Suite: k.suite, Key: k.id}
		var durs []time.Duration
		for _, o := range obs[k] {
			st.History = append(st.History, o.status)
			switch o.status {
			case "", StatusSkipped, StatusPending:
				continue
			case StatusPassed:
				st.Passed++
			case StatusFlaky:
				st.Flakes++
			default:
				st.Failures++
			}
			st.Runs++
			st.Name = o.name
			durs = append(durs, o.duration)
		}
		if st.Runs > 0 {
			st.FlakeRate = float64(st.Flakes) / float64(st.Runs)
		}
		st.P50, st.P95 = percentile(durs, 0.50), percentile(durs, 0.95)
		if latest >= 0 {
			st.Last = st.History[latest]
		}
		if tr.LastGreen >= 0 && (st.Last == StatusFailed || st.Last == StatusError) {
			then := st.History[tr.LastGreen]
			st.NewFailure = then != StatusFailed && then != StatusError
		}
		if st.NewFailure {
			tr.NewFailures = append(tr.NewFailures, k.id)
		}
		tr.Scenarios = append(tr.Scenarios, st)
	}
	sort.SliceStable(tr.Scenarios, func(i, j int) bool {
		a, b := tr.Scenarios[i], tr.Scenarios[j]
		if a.NewFailure != b.NewFailure {
			return a.NewFailure
		}
		if a.FlakeRate != b.FlakeRate {
			return a.FlakeRate > b.FlakeRate
		}
		if a.Failures != b.Failures {
			return a.Failures > b.Failures
		}
		if a.Suite != b.Suite {
			return a.Suite < b.Suite
		}
		return a.Key < b.Key
	})
	sort.Strings(tr.NewFailures)
	return tr
}

func rank(s Status) int {
	switch s {
	case StatusFailed, StatusError:
		return 4
	case StatusFlaky:
		return 3
	case StatusPassed:
		return 2
	case StatusSkipped, StatusPending:
		return 1
	}
	return 0
}

// percentile is the nearest-rank percentile (p in (0,1]); 0 for no data.
func percentile(durs []time.Duration, p float64) time.Duration {
	if len(durs) == 0 {
		return 0
	}
	s := slices.Clone(durs)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// WriteMarkdown writes the trend as Markdown for a CI job summary
// ($GITHUB_STEP_SUMMARY, a GitLab MR note).
func (tr TrendReport) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Flake trend (%d runs)\n\n", len(tr.Runs))
	if tr.LastGreen >= 0 {
		fmt.Fprintf(&b, "Last green run: **%s**.", mdCell(tr.Runs[tr.LastGreen].Name))
	} else {
		b.WriteString("No green run in this window, so no failure can be called new.")
	}
	if len(tr.NewFailures) > 0 {
		fmt.Fprintf(&b, " New failures since then: %s.", mdCell(strings.Join(tr.NewFailures, ", ")))
	}
	b.WriteString("\n\n| suite | scenario | runs | failures | flaky | flake rate | p50 | p95 | last | history (old → new) |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|---|---|\n")
	for _, s := range tr.Scenarios {
		key := mdCell(s.Key)
		if s.NewFailure {
			key += " **new failure**"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %.0f%% | %s | %s | %s | %s |\n",
			mdCell(s.Suite), key, s.Runs, s.Failures, s.Flakes, 100*s.FlakeRate,
			s.P50.Round(time.Millisecond), s.P95.Round(time.Millisecond), orDash(string(s.Last)), historyGlyphs(s.History))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func historyGlyphs(h []Status) string {
	var b strings.Builder
	for _, s := range h {
		switch s {
		case StatusPassed:
			b.WriteString("✔")
		case StatusFlaky:
			b.WriteString("~")
		case StatusFailed, StatusError:
			b.WriteString("✘")
		case "":
			b.WriteString("·")
		default:
			b.WriteString("-")
		}
	}
	return b.String()
}

// mdCell keeps text from breaking a Markdown table or rendering as markup.
func mdCell(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`)
	return r.Replace(s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
