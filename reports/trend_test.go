package reports

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// run builds one run's report: each spec given as id -> (state, attempts, seconds).
func trendRun(suiteOK bool, specs map[string][3]int) []types.Report {
	rep := types.Report{SuitePath: "/repo/suites/baseline", SuiteSucceeded: suiteOK}
	for id, s := range specs {
		sr := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "rehearses " + id, LeafNodeLabels: []string{id},
			NumAttempts: s[1], RunTime: time.Duration(s[2]) * time.Second}
		sr.State = map[int]types.SpecState{0: types.SpecStatePassed, 1: types.SpecStateFailed, 2: types.SpecStateSkipped}[s[0]]
		rep.SpecReports = append(rep.SpecReports, sr)
	}
	return []types.Report{rep}
}

func TestTrend(t *testing.T) {
	const pass, fail, skip = 0, 1, 2
	runs := [][]types.Report{
		trendRun(true, map[string][3]int{"TOK-01": {pass, 1, 1}, "TOK-02": {pass, 1, 10}, "KEY-03": {pass, 2, 4}}),
		trendRun(true, map[string][3]int{"TOK-01": {pass, 1, 2}, "TOK-02": {pass, 1, 20}, "KEY-03": {pass, 1, 4}}),
		trendRun(false, map[string][3]int{"TOK-01": {fail, 1, 3}, "TOK-02": {pass, 1, 30}, "KEY-03": {pass, 2, 4}}),
		trendRun(false, map[string][3]int{"TOK-01": {fail, 1, 4}, "TOK-02": {fail, 1, 40}, "KEY-03": {skip, 1, 0}, "NEW-04": {fail, 1, 1}}),
	}
	tr := Trend(runs)
	if tr.LastGreen != 1 {
		t.Errorf("last green run index %d, want 1", tr.LastGreen)
	}
	if strings.Join(tr.NewFailures, ",") != "NEW-04,TOK-01,TOK-02" {
		t.Errorf("new failures %v", tr.NewFailures)
	}
	by := map[string]ScenarioTrend{}
	for _, s := range tr.Scenarios {
		by[s.Key] = s
	}
	tok2 := by["TOK-02"]
	if tok2.Runs != 4 || tok2.Failures != 1 || tok2.P50 != 20*time.Second || tok2.P95 != 40*time.Second || !tok2.NewFailure || tok2.Suite != "suites/baseline" {
		t.Errorf("TOK-02: %+v", tok2)
	}
	key3 := by["KEY-03"]
	if key3.Runs != 3 || key3.Flakes != 2 || key3.FlakeRate < 0.66 || key3.FlakeRate > 0.67 || key3.Last != StatusSkipped || key3.NewFailure {
		t.Errorf("KEY-03 (skipped runs do not count): %+v", key3)
	}
	if new4 := by["NEW-04"]; new4.Runs != 1 || len(new4.History) != 4 || new4.History[0] != "" {
		t.Errorf("NEW-04: %+v", new4)
	}
	if !tr.Scenarios[0].NewFailure {
		t.Errorf("new failures sort first: %+v", tr.Scenarios[0])
	}

	var md strings.Builder
	if err := tr.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Flake trend (4 runs)", "Last green run: **run 2**", "| suites/baseline | KEY-03 | 3 | 0 | 2 | 67% | 4s | 4s | skipped | ~✔~- |", "TOK-02 **new failure**"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

func TestTrendWithoutGreenRun(t *testing.T) {
	tr := Trend([][]types.Report{trendRun(false, map[string][3]int{"TOK-01": {1, 1, 1}})})
	if tr.LastGreen != -1 || len(tr.NewFailures) != 0 {
		t.Errorf("%+v", tr)
	}
	var md strings.Builder
	tr.WriteMarkdown(&md)
	if !strings.Contains(md.String(), "No green run") {
		t.Error(md.String())
	}
}

func TestTrendFromDirs(t *testing.T) {
	base := t.TempDir()
	var dirs []string
	for i, ok := range []bool{true, false} {
		d := filepath.Join(base, []string{"2026-12-01", "2026-12-02"}[i])
		os.MkdirAll(d, 0o755)
		data, _ := json.Marshal(trendRun(ok, map[string][3]int{"TOK-01": {map[bool]int{true: 0, false: 1}[ok], 1, 1}}))
		os.WriteFile(filepath.Join(d, TrendReportFile), data, 0o644)
		dirs = append(dirs, d)
	}
	tr, err := TrendFromDirs(dirs)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Runs[0].Name != "2026-12-01" || !tr.Runs[0].Green || len(tr.NewFailures) != 1 {
		t.Errorf("%+v", tr)
	}
	if _, err := TrendFromDirs([]string{filepath.Join(base, "missing")}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a folder without report.json must be an error naming it: %v", err)
	}
}
