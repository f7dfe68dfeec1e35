package config

import (
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
