package main

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"rehearsal/scenarios"
)

// spec is a synthetic It report labelled as the runner labels it: the id first.
func spec(id, variant string, state types.SpecState) types.SpecReport {
	text := "a behaviour"
	if variant != "" {
		text += " (" + variant + ")"
	}
	return types.SpecReport{
		LeafNodeType:            types.NodeTypeIt,
		ContainerHierarchyTexts: []string{id},
		LeafNodeText:            text,
		LeafNodeLabels:          []string{id, "flow:refresh", "catches:spa-deep-link-lost"},
		State:                   state,
	}
}

func suite(specs ...types.SpecReport) []types.Report {
	return []types.Report{{SuiteDescription: "rehearsal catalogue", SpecReports: specs}}
}

func TestCaughtWhenEveryExpectedIDHasAFailedScenario(t *testing.T) {
	reps := suite(
		spec("TOK-03", "corrupt", types.SpecStatePassed),
		spec("TOK-03", "revoked", types.SpecStateFailed), // one variant is enough for the row
		spec("LGN-01", "", types.SpecStateTimedout),      // a hang is a catch
	)
	r := defectVerdict("spa-deep-link-lost", []string{"LGN-01", "TOK-03"}, reps, nil)
	if r.Verdict != verdictCaught || len(r.Missing) != 0 || strings.Join(r.Failed, ",") != "LGN-01,TOK-03" || r.Problem != "" {
		t.Errorf("got %+v", r)
	}
}

func TestUncaughtNamesTheMissingIDs(t *testing.T) {
	reps := suite(
		spec("TOK-03", "revoked", types.SpecStateFailed),
		spec("LGN-01", "", types.SpecStatePassed),
	)
	r := defectVerdict("spa-deep-link-lost", []string{"LGN-01", "TOK-03"}, reps, nil)
	if r.Verdict != verdictUncaught || strings.Join(r.Missing, ",") != "LGN-01" {
		t.Errorf("got %+v", r)
	}
}

// A broken setup makes no spec run: that is not a catch, and the reason shows.
func TestSetupFailureIsNotACatch(t *testing.T) {
	before := types.SpecReport{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStateFailed,
		Failure: types.Failure{Message: "start the embedded reference stack\nmore"}}
	reps := suite(before, spec("LGN-01", "", types.SpecStateSkipped))
	r := defectVerdict("spa-deep-link-lost", []string{"LGN-01"}, reps, nil)
	if r.Verdict != verdictUncaught || !strings.Contains(r.Problem, "BeforeSuite failed: start the embedded reference stack") {
		t.Errorf("got %+v", r)
	}
}

// Specs stopped by an interrupt or a suite timeout prove nothing.
func TestInterruptedSpecIsNotACatch(t *testing.T) {
	reps := suite(spec("LGN-01", "", types.SpecStateInterrupted))
	r := defectVerdict("spa-deep-link-lost", []string{"LGN-01"}, reps, errors.New("interrupted: context canceled"))
	if r.Verdict != verdictUncaught || !strings.Contains(r.Problem, "interrupted") {
		t.Errorf("got %+v", r)
	}
}

func TestDefectWithoutScenariosIsUncaught(t *testing.T) {
	r := defectVerdict("api-sleeps", nil, nil, nil)
	if r.Verdict != verdictUncaught || !strings.Contains(r.Problem, "no ready scenario") {
		t.Errorf("got %+v", r)
	}
}

func TestHealthyRun(t *testing.T) {
	ok := healthyVerdict(suite(spec("LGN-01", "", types.SpecStatePassed), spec("TOK-03", "x", types.SpecStateSkipped)), 0, nil)
	if !ok.OK || ok.Ran != 1 {
		t.Errorf("passing run: %+v", ok)
	}
	bad := healthyVerdict(suite(spec("LGN-01", "", types.SpecStatePassed), spec("TOK-03", "x", types.SpecStateFailed)), 1, nil)
	if bad.OK || !strings.Contains(bad.Problem, "TOK-03") {
		t.Errorf("failing run: %+v", bad)
	}
	setup := healthyVerdict(suite(types.SpecReport{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStateFailed}), 1, nil)
	if setup.OK || !strings.Contains(setup.Problem, "BeforeSuite") {
		t.Errorf("broken setup: %+v", setup)
	}
	odd := healthyVerdict(suite(spec("LGN-01", "", types.SpecStatePassed)), 1, nil)
	if odd.OK {
		t.Errorf("non-zero exit without a failed spec passed: %+v", odd)
	}
	if none := healthyVerdict(nil, -1, nil); none.OK {
		t.Errorf("no report passed: %+v", none)
	}
}

func TestExpectedIDsSkipDraftsAndGroupVariants(t *testing.T) {
	cat := []*scenarios.Scenario{
		{ID: "TOK-03", Variant: "a", Catches: []string{"d"}},
		{ID: "TOK-03", Variant: "b", Catches: []string{"d"}},
		{ID: "LGN-01", Catches: []string{"d", "e"}},
		{ID: "NET-09", Status: scenarios.StatusDraft, Catches: []string{"d"}},
		{ID: "API-01"},
	}
	ids, n := expectedIDs(cat, "d")
	if strings.Join(ids, ",") != "LGN-01,TOK-03" || n != 3 {
		t.Errorf("ids %v n %d", ids, n)
	}
}

func TestCatchesFilterIsAGinkgoLabelSetQuery(t *testing.T) {
	if got := catchesFilter([]string{"a-b", "c"}); got != "catches: containsAny {a-b, c}" {
		t.Errorf("filter %q", got)
	}
	if _, err := types.ParseLabelFilter(catchesFilter(scenarios.Defects())); err != nil {
		t.Errorf("Ginkgo rejects the filter: %v", err)
	}
}

func TestTableShowsVerdictsAndHealthyLine(t *testing.T) {
	res := selfcheckResult{
		Healthy: healthyResult{OK: true, Ran: 4},
		Defects: []defectResult{
			{Defect: "spa-deep-link-lost", Expected: []string{"LGN-01", "TOK-03"}, Failed: []string{"LGN-01", "TOK-03"}, Verdict: verdictCaught},
			{Defect: "api-no-audience-check", Expected: []string{"API-03", "TOK-05"}, Failed: []string{"API-03"}, Missing: []string{"TOK-05"}, Verdict: verdictUncaught},
		},
	}
	var b bytes.Buffer
	if err := writeSelfcheckTable(&b, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"LGN-01,TOK-03  LGN-01,TOK-03  caught\n", "UNCAUGHT (missing TOK-05)", "healthy: ok, 4 scenario(s)", "selfcheck: FAILED"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// Ginkgo matches --focus against "<suite description> <id> <spec text>".
func TestFocusForAKeyMatchesOnlyThatSpecAfterTheSuiteDescription(t *testing.T) {
	scs := []*scenarios.Scenario{
		{ID: "TOK-04", Variant: "as-down", Title: "keeps the session (x)"},
		{ID: "TOK-04", Variant: "as-down-2", Title: "keeps the session (x)"},
		{ID: "INC-01", Title: "keeps the user signed in"},
	}
	re := regexp.MustCompile(focusFor("TOK-04/as-down", scs))
	if !re.MatchString("rehearsal incidents TOK-04 keeps the session (x) (as-down)") {
		t.Errorf("%s does not match its spec", re)
	}
	if re.MatchString("rehearsal incidents TOK-04 keeps the session (x) (as-down-2)") {
		t.Errorf("%s matches another variant", re)
	}
	if got := focusFor("INC-0.", scs); got != "INC-0." {
		t.Errorf("a plain regexp was changed to %q", got)
	}
	if !regexp.MustCompile(focusFor("INC-01", scs)).MatchString("rehearsal incidents INC-01 keeps the user signed in") {
		t.Error("id focus does not match")
	}
}
