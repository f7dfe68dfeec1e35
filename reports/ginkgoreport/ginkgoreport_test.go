package ginkgoreport_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"rehearsal/harness/evidence"
	"rehearsal/harness/redact"
	"rehearsal/reports"
	"rehearsal/reports/ginkgoreport"
)

// TestWriteAllWritesNoRawSecret plays a failed spec whose message, output
// and evidence hold issued tokens, writes every report, and scans every file
// under the output and evidence folders for the raw values.
func TestWriteAllWritesNoRawSecret(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "go.mod"), []byte("module rehearsal\n"), 0o644)
	suite := filepath.Join(root, "suites", "baseline")
	os.MkdirAll(suite, 0o755)
	enc := base64.RawURLEncoding.EncodeToString
	access := enc([]byte(`{"alg":"ES256","kid":"k1"}`)) + "." + enc([]byte(`{"sub":"bob","sid":"sid-raw-777777"}`)) + ".c2lnLXJhdy0xMjM0NTY3"
	refresh := "opaque-refresh-0a1b2c3d4e"
	raw := []string{access, refresh, "sid-raw-777777", "c2lnLXJhdy0xMjM0NTY3"}

	red := redact.New()
	b, err := evidence.New(filepath.Join(root, "out", "evidence"), "TOK-09", 1, red)
	if err != nil {
		t.Fatal(err)
	}
	b.AddToken(time.Now(), "access_token", "token response", access)
	b.AddToken(time.Now(), "refresh_token", "token response", refresh)
	b.WriteText(evidence.FileASLog, `{"msg":"issued","refresh":"`+refresh+`"}`+"\n")

	sr := types.SpecReport{
		LeafNodeType: types.NodeTypeIt, LeafNodeText: "ends the session once on a reused refresh token",
		LeafNodeLabels: []string{"TOK-09"}, State: types.SpecStateFailed, NumAttempts: 1,
		LeafNodeLocation: types.CodeLocation{FileName: filepath.Join(suite, "s_test.go"), LineNumber: 9},
		Failure: types.Failure{Message: "saw refresh " + refresh + " and token " + access,
			Location: types.CodeLocation{FileName: filepath.Join(suite, "s_test.go"), LineNumber: 12}},
		CapturedGinkgoWriterOutput: "Authorization: Bearer " + access + "\n",
		ReportEntries:              types.ReportEntries{{Name: reports.EntryEvidence, Value: types.WrapEntryValue(b.Dir())}},
	}
	rep := types.Report{SuitePath: suite, SuiteDescription: "Baseline", SpecReports: types.SpecReports{sr}}
	out := filepath.Join(root, "out")
	if err := ginkgoreport.WriteAll(rep, out, ginkgoreport.Options{Redactor: red}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ginkgoreport.FileJUnit, ginkgoreport.FileHTML, ginkgoreport.FileReport} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("%s not written: %v", name, err)
		}
	}
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(path) == "go.mod" {
			return err
		}
		data, _ := os.ReadFile(path)
		for _, v := range raw {
			if strings.Contains(string(data), v) {
				t.Errorf("%s holds raw value %.12s...", path, v)
			}
		}
		return nil
	})
	// report.json is still a Ginkgo report the trend can read.
	reps, err := reports.Load(filepath.Join(out, ginkgoreport.FileReport))
	if err != nil || len(reps) != 1 || reps[0].SpecReports[0].State != types.SpecStateFailed {
		t.Fatalf("report.json does not load back: %v %+v", err, reps)
	}
	junit, _ := os.ReadFile(filepath.Join(out, ginkgoreport.FileJUnit))
	if !strings.Contains(string(junit), "[[ATTACHMENT|out/evidence/TOK-09/attempt-1/tokens.json]]") {
		t.Errorf("attachments should be relative to the repo root:\n%s", junit)
	}
	// With earlier runs given, the HTML has a trend section over them and this run.
	if err := ginkgoreport.WriteAll(rep, filepath.Join(root, "out2"), ginkgoreport.Options{Redactor: red, TrendDirs: []string{out}}); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(root, "out2", ginkgoreport.FileHTML))
	if !strings.Contains(string(page), "Flake trend (2 runs)") {
		t.Error("trend section missing")
	}
}
