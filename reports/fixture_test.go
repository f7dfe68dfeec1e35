package reports

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"rehearsal/harness/evidence"
	"rehearsal/harness/redact"
)

// fixture is a synthetic run: a repo folder with a suite, one evidence
// bundle for the failed spec and one for the flaky spec, and a Ginkgo report
// whose specs pass, fail, flake and skip. Raw holds every raw secret value
// that appears in the inputs and must never appear in any output.
type fixture struct {
	Root     string
	Report   types.Report
	Redactor *redact.Redactor
	Raw      []string
	Shot     string // the failed spec's screenshot
}

const (
	failedName = "Token refresh when the AS is unreachable shows the error panel and keeps the session"
	flakyName  = "Key rotation keeps the user signed in across a signing key switch"
)

func newFixture(t *testing.T) fixture {
	t.Helper()
	root := t.TempDir()
	suiteDir := filepath.Join(root, "suites", "baseline")
	if err := os.MkdirAll(suiteDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module rehearsal\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	access := enc([]byte(`{"alg":"RS256","kid":"k2"}`)) + "." + enc([]byte(`{"sub":"alice","exp":1796306400,"iat":1796306100,"jti":"jti-raw-value-1"}`)) + ".c2lnbmF0dXJlLXJhdy12YWx1ZQ"
	refresh := "rt_raw_9f8e7d6c5b4a3210"
	f := fixture{Root: root, Redactor: redact.New(), Raw: []string{access, refresh, "jti-raw-value-1", "c2lnbmF0dXJlLXJhdy12YWx1ZQ"}}

	start := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	evRoot := filepath.Join(root, "out", "evidence")
	b, err := evidence.New(evRoot, "TOK-02", 1, f.Redactor)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddToken(start.Add(time.Second), "access_token", "token response (authorization_code)", access); err != nil {
		t.Fatal(err)
	}
	if err := b.AddToken(start.Add(time.Second), "refresh_token", "token response (authorization_code)", refresh); err != nil {
		t.Fatal(err)
	}
	f.Shot, err = b.AddScreenshot("failure", pngBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	removed := start.Add(9 * time.Second)
	for name, v := range map[string]any{
		evidence.FileFaults:   []evidence.FaultEvent{{Layer: "network", Link: "as", Name: "link down", Applied: start.Add(3 * time.Second), Removed: &removed}},
		evidence.FileCounters: map[string]int{"as:/oauth/token[refresh_token]": 1, "api:/companies": 2},
		evidence.FileControl:  []evidence.ControlAction{{Time: start.Add(2 * time.Second), Target: "as", Action: "advance-clock", Params: map[string]any{"by": "10m"}}},
	} {
		if _, err := b.WriteJSON(name, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.WriteRepro(`ginkgo --label-filter=TOK-02 --seed=4242 ./suites/baseline`); err != nil {
		t.Fatal(err)
	}
	flakyBundle, err := evidence.New(evRoot, "KEY-03", 1, f.Redactor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flakyBundle.AddScreenshot("after switch", pngBytes(t)); err != nil {
		t.Fatal(err)
	}

	spec := func(containers []string, leaf string, labels []string, line int) types.SpecReport {
		return types.SpecReport{
			ContainerHierarchyTexts:  containers,
			ContainerHierarchyLabels: [][]string{nil},
			LeafNodeType:             types.NodeTypeIt,
			LeafNodeText:             leaf,
			LeafNodeLabels:           labels,
			LeafNodeLocation:         types.CodeLocation{FileName: filepath.Join(suiteDir, "tokens_test.go"), LineNumber: line},
			StartTime:                start,
			EndTime:                  start.Add(2 * time.Second),
			RunTime:                  2 * time.Second,
			NumAttempts:              1,
		}
	}
	passed := spec([]string{"Token refresh"}, "keeps the user signed in when one refresh hits a connection reset", []string{"TOK-01", "flow:refresh", "link:as"}, 20)
	passed.State = types.SpecStatePassed

	failed := spec([]string{"Token refresh", "when the AS is unreachable"}, "shows the error panel and keeps the session", []string{"TOK-02", "fault:network", "link:as"}, 40)
	failed.State = types.SpecStateFailed
	failed.RunTime = 12 * time.Second
	failed.Failure = types.Failure{
		Message:  "Expected the error panel, saw the signed-out view\nstorage held refresh_token=" + refresh + " and Authorization: Bearer " + access,
		Location: types.CodeLocation{FileName: filepath.Join(suiteDir, "tokens_test.go"), LineNumber: 47, FullStackTrace: "rehearsal/suites/baseline.glob..func1()\n\ttokens_test.go:47"},
	}
	failed.CapturedGinkgoWriterOutput = "\x1b[1mSTEP:\x1b[0m inject link down on as\nPOST /oauth/token refresh_token=" + refresh + "\n"
	failed.ReportEntries = types.ReportEntries{
		{Name: EntryEvidence, Value: types.WrapEntryValue(b.Dir())},
	}

	flaky := spec([]string{"Key rotation"}, "keeps the user signed in across a signing key switch", []string{"flow:rotation", "tier:nightly"}, 60)
	flaky.State = types.SpecStatePassed
	flaky.NumAttempts, flaky.MaxFlakeAttempts = 2, 3
	flaky.AdditionalFailures = []types.AdditionalFailure{{State: types.SpecStateFailed, Failure: types.Failure{
		Message:  "Failure recorded during attempt 1:\nExpected the API to answer 200, got 401 for token " + access,
		Location: types.CodeLocation{FileName: filepath.Join(suiteDir, "tokens_test.go"), LineNumber: 66},
	}}}
	flaky.ReportEntries = types.ReportEntries{
		{Name: EntryScenarioID, Value: types.WrapEntryValue("KEY-03")},
		{Name: EntryEvidence, Value: types.WrapEntryValue(flakyBundle.Files()[1])}, // one file, not the folder
	}

	skipped := spec([]string{"Control plane"}, "revokes every session on emergency rotation", []string{"CTL-04", "layer:control"}, 80)
	skipped.State = types.SpecStateSkipped
	skipped.Failure = types.Failure{Message: "target has no control plane (capability control-plane missing)", Location: types.CodeLocation{FileName: filepath.Join(suiteDir, "tokens_test.go"), LineNumber: 81}}

	beforeSuite := types.SpecReport{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed, NumAttempts: 1}

	f.Report = types.Report{
		SuitePath:        suiteDir,
		SuiteDescription: "Baseline",
		SuiteSucceeded:   false,
		StartTime:        start,
		EndTime:          start.Add(20 * time.Second),
		RunTime:          20 * time.Second,
		SuiteConfig:      types.SuiteConfig{RandomSeed: 4242},
		SpecReports:      types.SpecReports{beforeSuite, passed, failed, flaky, skipped},
	}
	return f
}

func (f fixture) collect(outDir string) Run {
	return Collect([]types.Report{f.Report}, Options{RepoRoot: f.Root, OutDir: outDir, Redactor: f.Redactor})
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for x := 0; x < 40; x++ {
		for y := 0; y < 20; y++ {
			img.Set(x, y, color.RGBA{R: 200, G: uint8(5 * x), B: 40, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
