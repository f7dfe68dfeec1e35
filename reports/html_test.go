package reports

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const chromium = "/usr/bin/chromium-headless-shell"

// TestHTMLReportInChromium renders the report next to the evidence folder,
// opens it in real headless Chromium and reads the DOM a person would see.
func TestHTMLReportInChromium(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("%s not found: install chromium-headless-shell to check the HTML report in a browser", chromium)
	}
	f := newFixture(t)
	outDir := filepath.Join(f.Root, "out")
	tr := Trend(nil)
	var buf bytes.Buffer
	if err := WriteHTML(&buf, f.collect(outDir), HTMLOptions{Dir: outDir, Trend: &tr}); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(outDir, "report.html")
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--user-data-dir="+t.TempDir(), "--dump-dom", (&url.URL{Scheme: "file", Path: page}).String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	s := string(dom)
	text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(s, " ")
	for _, want := range []string{"1 passed", "1 failed", "1 flaky", "1 skipped", failedName, "Expected the error panel, saw the signed-out view",
		"suites/baseline/tokens_test.go:47", "ginkgo --label-filter=TOK-02 --seed=4242 ./suites/baseline", "link down", "advance-clock",
		"as:/oauth/token[refresh_token]", "Flake trend"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if !strings.Contains(s, `data-filter-ready="true"`) {
		t.Error("the label filter script did not run")
	}
	// The failed spec's screenshot: an img whose src resolves to a file.
	imgs := regexp.MustCompile(`<img src="([^"]+)" alt="screenshot: failure"`).FindAllStringSubmatch(s, -1)
	if len(imgs) != 1 {
		t.Fatalf("expected one failure screenshot img, found %d in:\n%s", len(imgs), s)
	}
	src, err := url.PathUnescape(imgs[0][1])
	if err != nil || filepath.IsAbs(src) {
		t.Fatalf("img src %q should be a relative path", imgs[0][1])
	}
	if got := filepath.Join(outDir, filepath.FromSlash(src)); got != f.Shot {
		t.Errorf("img src resolves to %s, want the screenshot %s", got, f.Shot)
	}
	if _, err := os.Stat(filepath.Join(outDir, filepath.FromSlash(src))); err != nil {
		t.Errorf("img src does not exist: %v", err)
	}
	// The flaky spec shows its screenshot too; the passed spec is only a row.
	if !strings.Contains(s, `alt="screenshot: after_switch"`) {
		t.Error("the flaky spec's screenshot is missing")
	}
	for _, raw := range f.Raw {
		if strings.Contains(s, raw) {
			t.Errorf("raw secret %.16s... shown in the page", raw)
		}
	}
}

func TestHTMLEscapesEverything(t *testing.T) {
	f := newFixture(t)
	f.Report.SpecReports[2].LeafNodeText = `<script>alert("x")</script>`
	f.Report.SpecReports[2].Failure.Message = `<img src=x onerror=alert(1)>`
	var buf bytes.Buffer
	if err := WriteHTML(&buf, f.collect(f.Root), HTMLOptions{Dir: f.Root}); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	if strings.Contains(s, `<script>alert`) || strings.Contains(s, `<img src=x`) {
		t.Error("spec text reached the page unescaped")
	}
	if !strings.Contains(s, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`) {
		t.Error("escaped spec name not shown")
	}
}
