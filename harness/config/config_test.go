package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	r := &Raw{Target: "/no/such/target.yaml", Chromium: "/no/such/chromium", ToxiproxyURL: "localhost:8474",
		OutDir: "out", Scenarios: "/no/such/dir", TimeoutScale: "fast"}
	_, err := r.Validate()
	if err == nil {
		t.Fatal("Validate accepted a configuration with five problems")
	}
	for _, want := range []string{"5 problem(s)", "target", "chromium", "toxiproxy-url", "scenarios", "timeout-scale", "REHEARSAL_CHROMIUM"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestValidateScalesTimeoutsAndSplitsDefects(t *testing.T) {
	r := &Raw{Target: "embedded", Chromium: "/bin/sh", OutDir: "out", TimeoutScale: "2", Defects: " api-no-audience-check, ,spa-deep-link-lost"}
	c, err := r.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Timeouts.UI, 2*DefaultTimeouts().UI; got != want {
		t.Errorf("UI timeout = %v, want %v", got, want)
	}
	if c.Timeouts.ScaleDuration(10*time.Second) != 20*time.Second {
		t.Errorf("ScaleDuration(10s) = %v, want 20s", c.Timeouts.ScaleDuration(10*time.Second))
	}
	if strings.Join(c.Defects, "|") != "api-no-audience-check|spa-deep-link-lost" {
		t.Errorf("defects = %q", c.Defects)
	}
}

func TestTimeoutScaleMustBeAUsableNumber(t *testing.T) {
	for _, v := range []string{"NaN", "nan", "Inf", "-1", "0", "0.01", "101", "1e309", ""} {
		r := &Raw{Target: "embedded", Chromium: "/bin/sh", OutDir: "out", TimeoutScale: v}
		if _, err := r.Validate(); err == nil || !strings.Contains(err.Error(), "timeout-scale") {
			t.Errorf("timeout-scale %q accepted (err %v)", v, err)
		}
	}
	for _, v := range []string{"0.1", "1", "2.5", "100"} {
		r := &Raw{Target: "embedded", Chromium: "/bin/sh", OutDir: "out", TimeoutScale: v}
		if _, err := r.Validate(); err != nil {
			t.Errorf("timeout-scale %q refused: %v", v, err)
		}
	}
}

func TestUserPathsAreTakenFromWhereTheCommandRan(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "incidents"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PWD", dir) // what the shell hands the test binary Ginkgo runs elsewhere
	r := &Raw{Target: "embedded", Chromium: "/bin/sh", OutDir: "my-out", Scenarios: "incidents", TimeoutScale: "1"}
	c, err := r.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if c.OutDir != filepath.Join(dir, "my-out") || len(c.ScenarioDirs) != 1 || c.ScenarioDirs[0] != filepath.Join(dir, "incidents") {
		t.Errorf("relative paths not taken from $PWD %s: out %s, scenarios %v", dir, c.OutDir, c.ScenarioDirs)
	}
}

func TestEveryProblemAtOnceIncludingDefectsAndRemoteBrowser(t *testing.T) {
	r := &Raw{Target: "embedded", BrowserURL: "ws://127.0.0.1:9/devtools/browser/x", OutDir: "/proc/nope",
		TimeoutScale: "NaN", Defects: "spa-deep-link-lost,no-such-defect", KnownDefects: []string{"spa-deep-link-lost"}}
	_, err := r.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"4 problem(s)", "no-such-defect", "browser-url", "out \"/proc/nope\"", "timeout-scale"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "spa-deep-link-lost,") {
		t.Errorf("a known defect was reported:\n%v", err)
	}
}
