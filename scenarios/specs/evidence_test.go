package specs

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/onsi/ginkgo/v2/types"

	"rehearsal/harness/browser"
	"rehearsal/harness/config"
	"rehearsal/harness/embedded"
	"rehearsal/harness/pages"
	"rehearsal/harness/redact"
	"rehearsal/reports"
	"rehearsal/reports/ginkgoreport"
	"rehearsal/scenarios"
	"rehearsal/scenarios/run"
)

const failingScenario = `
id: INC-01
title: a rehearsal that fails after signing in, to check what its evidence holds
labels: [flow:signin]
steady:
  - sign_in: {user: alice, from: /companies/2}
  - expect:
      within: 10s
      ui: {signed_in: alice, views: {transactions-view: ready}}
  - remember: {access_token: at, refresh_token: rt, id_token: idt}
observe:
  - expect: {within: 1s, ui: {signed_out: true}}
`

// TestFailedRehearsalWritesNoRawSecret signs in for real (real AS, API, SPA
// and Chromium), collects the evidence of a failed attempt and writes every
// report, with the raw tokens the AS issued in the failure message and the
// spec's output as a careless test would put them; then it scans every
// written file, and every file name, for those raw values.
func TestFailedRehearsalWritesNoRawSecret(t *testing.T) {
	if _, err := os.Stat(config.DefaultChromium); err != nil {
		t.Skipf("no Chromium at %s (make setup installs it)", config.DefaultChromium)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st, err := embedded.Start(ctx, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	b, err := browser.Launch(ctx, browser.Options{ExecPath: config.DefaultChromium, HostRules: st.HostRules()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	env := &run.Env{Target: st, Browser: b, UI: pages.New(nil), Timeouts: config.DefaultTimeouts(), Redactor: redact.New()}

	scs, err := scenarios.Parse("incident.yaml", []byte(failingScenario))
	if err != nil {
		t.Fatal(err)
	}
	sc := scs[0]
	sess, err := run.NewSession(ctx, env, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close(context.Background())
	for _, step := range sc.Steady {
		if _, ok := step.Action.(*scenarios.Expect); ok {
			continue
		}
		if err := sess.Do(ctx, step); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	order, tabs := sess.Tabs()
	u, err := tabs[order[0]].StoredUser(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string]string{"access token": u.AccessToken, "refresh token": u.RefreshToken, "ID token": u.IDToken}
	for what, v := range raw {
		if len(v) < 16 {
			t.Fatalf("the %s the AS issued is implausibly short (%d bytes); the test would prove nothing", what, len(v))
		}
	}
	// A fresh redactor per report writer, as in a real run: only what the
	// evidence collector registers itself (and the JWT pattern) protects us.
	env.Redactor = redact.New()
	out := t.TempDir()
	shots := &phaseShots{}
	shots.take(ctx, sess, "steady")
	paths, err := collectEvidence(ctx, env, sess, sc, filepath.Join(out, "evidence"), 1, shots, "go tool ginkgo --focus=INC-01 ./suites/incidents")
	if err != nil {
		t.Fatalf("collect evidence: %v", err)
	}
	if len(paths) < 8 {
		t.Fatalf("evidence holds %d files, want the full bundle: %v", len(paths), paths)
	}
	for _, want := range []string{"dom.html", "console.json", "network.har.json", "counters.json", "logs-as.jsonl", "logs-api.jsonl", "tokens.json", "repro.txt", "screenshot"} {
		found := false
		for _, p := range paths {
			found = found || strings.Contains(filepath.Base(p), want)
		}
		if !found {
			t.Errorf("evidence lacks %s: %v", want, paths)
		}
	}

	wd, _ := os.Getwd()
	sr := types.SpecReport{
		LeafNodeType: types.NodeTypeIt, LeafNodeText: sc.Title, LeafNodeLabels: []string{"INC-01"},
		State: types.SpecStateFailed, NumAttempts: 1,
		LeafNodeLocation: types.CodeLocation{FileName: filepath.Join(wd, "specs.go"), LineNumber: 1},
		Failure: types.Failure{Message: "stored refresh token " + u.RefreshToken + " with access token " + u.AccessToken,
			Location: types.CodeLocation{FileName: filepath.Join(wd, "specs.go"), LineNumber: 2}},
		CapturedGinkgoWriterOutput: "Authorization: Bearer " + u.AccessToken + "\nid_token_hint=" + u.IDToken + "\n",
	}
	for _, p := range paths {
		sr.ReportEntries = append(sr.ReportEntries, types.ReportEntry{Name: reports.EntryEvidence, Value: types.WrapEntryValue(p)})
	}
	rep := types.Report{SuitePath: wd, SuiteDescription: "incidents", SpecReports: types.SpecReports{sr}}
	if err := ginkgoreport.WriteAll(rep, out, ginkgoreport.Options{Redactor: env.Redactor}); err != nil {
		t.Fatal(err)
	}

	// What a person opening the HTML report would see: the failure, and its
	// screenshots loaded from the evidence folder.
	page, err := b.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer page.Close()
	if err := page.Tab().Navigate(ctx, "file://"+filepath.Join(out, ginkgoreport.FileHTML)); err != nil {
		t.Fatal(err)
	}
	type shown struct {
		Text   string `json:"text"`
		Loaded int    `json:"loaded"`
		Images int    `json:"images"`
		Srcs   string `json:"srcs"`
	}
	seen, err := browser.RunValue(ctx, page.Tab(), chromedp.Evaluate[shown](`({
		text: document.body.innerText,
		images: document.querySelectorAll("img").length, srcs: [...document.querySelectorAll("img")].map(i => i.getAttribute("src")).join(" "),
		loaded: [...document.querySelectorAll("img")].filter(i => i.complete && i.naturalWidth > 0).length})`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(seen.Text, sc.Title) || !strings.Contains(strings.ToLower(seen.Text), "fail") {
		t.Errorf("the HTML report does not show the failed rehearsal %q:\n%s", sc.Title, seen.Text)
	}
	if seen.Images == 0 || seen.Loaded != seen.Images {
		t.Errorf("the HTML report shows %d of %d screenshots; want every one loaded from the evidence folder (src: %s)", seen.Loaded, seen.Images, seen.Srcs)
	}

	files := 0
	err = filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for what, v := range raw {
			if strings.Contains(path, v) {
				t.Errorf("file name %s holds the raw %s", path, what)
			}
		}
		if d.IsDir() {
			return nil
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for what, v := range raw {
			if strings.Contains(string(data), v) {
				t.Errorf("%s holds the raw %s", path, what)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Errorf("scanned only %d files; expected the evidence bundle and the reports", files)
	}
}

func TestReproCarriesTheSettingsThatChangeARerun(t *testing.T) {
	sc := &scenarios.Scenario{ID: "TOK-04", Variant: "as-down", Title: "t"}
	cfg := &config.Config{Target: "embedded", Defects: []string{"spa-deep-link-lost"}, ToxiproxyURL: "http://127.0.0.1:8474",
		Timeouts: config.DefaultTimeouts().Scaled(2.5)}
	got := reproCommand("catalogue", cfg, sc)
	for _, want := range []string{"REHEARSAL_DEFECTS=spa-deep-link-lost", "REHEARSAL_TIMEOUT_SCALE=2.5", "REHEARSAL_TOXIPROXY_URL=http://127.0.0.1:8474", "./suites/catalogue"} {
		if !strings.Contains(got, want) {
			t.Errorf("repro %q lacks %q", got, want)
		}
	}
	cfg.Timeouts = config.DefaultTimeouts()
	cfg.ToxiproxyURL, cfg.Defects = "", nil
	if got := reproCommand("catalogue", cfg, sc); strings.Contains(got, "REHEARSAL_") {
		t.Errorf("default settings should not clutter the repro line: %q", got)
	}
}
