package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// good is a minimal valid incident file; each malformed case changes one line.
const good = `id: INC-01
title: keeps the user signed in when the API is slow
labels: [flow:api, tier:core]
steady:
  - sign_in: alice
inject:
  - fault: {name: slow, link: api, layer: network, kind: latency, latency: 2s}
observe:
  - expect:
      within: 10s
      ui: {signed_in: alice}
heal:
  - heal: slow
`

// execute runs one command as the binary would and returns its output and
// exit status.
func execute(t *testing.T, cmd *cobra.Command, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
	default:
		errb.WriteString(err.Error())
		code = 2
	}
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateAcceptsAGoodFile(t *testing.T) {
	p := writeFile(t, t.TempDir(), "good.yaml", good)
	out, errOut, code := execute(t, validateCmd(), p)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if want := "ok: 1 scenario(s) in 1 file(s), 1 ready, 0 draft\n"; out != want {
		t.Errorf("summary %q, want %q", out, want)
	}
}

// Each kind of malformed file is reported as file:line: what; expected, with exit status 1.
func TestValidateReportsEachMalformedKind(t *testing.T) {
	cases := []struct {
		name     string
		from, to string
		line     string // "file:line: " suffix after the path
		says     string
	}{
		{"unknown key", "title: keeps", "titel: keeps", ":2: ", `unknown key "titel"; expected one of: id, variant, title`},
		{"unknown step", "  - sign_in: alice", "  - log_in: alice", ":5: ", `unknown step "log_in"; expected one of:`},
		{"bad duration", "within: 10s", "within: 10 seconds", ":10: ", `"10 seconds" is not a duration; a Go duration`},
		{"yaml syntax error", "labels: [flow:api, tier:core]", "labels: [flow:api, tier:core", ":", "YAML: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(good, tc.from, tc.to, 1)
			if src == good {
				t.Fatal("case did not change the file")
			}
			p := writeFile(t, t.TempDir(), "bad.yaml", src)
			out, errOut, code := execute(t, validateCmd(), p)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if out != "" {
				t.Errorf("printed a summary on failure: %q", out)
			}
			if !hasProblem(errOut, p+tc.line, tc.says) {
				t.Errorf("want a line starting %q containing %q, got:\n%s", p+tc.line, tc.says, errOut)
			}
		})
	}
}

func TestValidateReportsDuplicateIDsAcrossFilesInADirectory(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.yaml", good)
	b := writeFile(t, dir, "nested/b.yaml", "# the same incident, copied\n"+good)
	_, errOut, code := execute(t, validateCmd(), dir)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !hasProblem(errOut, b+":2: ", "duplicate scenario INC-01 (first at "+a+":1); each id+variant once") {
		t.Errorf("no duplicate-id problem at %s:2, got:\n%s", b, errOut)
	}
}

func TestValidateReportsEveryFileAtOnce(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.yaml", strings.Replace(good, "title: keeps", "titel: keeps", 1))
	b := writeFile(t, dir, "b.yaml", strings.Replace(good, "id: INC-01", "id: INC-02\nwhen: now", 1))
	_, errOut, code := execute(t, validateCmd(), a, b)
	if code != 1 || !hasProblem(errOut, a+":2: ", "titel") || !hasProblem(errOut, b+":2: ", "when") {
		t.Errorf("exit %d, want 1 and a problem in each file, got:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "3 problem(s) found") {
		t.Errorf("no count line:\n%s", errOut)
	}
}

func TestValidateMissingPathIsAnError(t *testing.T) {
	_, errOut, code := execute(t, validateCmd(), filepath.Join(t.TempDir(), "nope.yaml"))
	if code != 2 || !strings.Contains(errOut, "no such scenario file or directory") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func hasProblem(stderr, prefix, says string) bool {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, prefix) && strings.Contains(l, says) {
			return true
		}
	}
	return false
}

func TestListJSONShowsEveryCatalogueEntryWithVariantAndStatus(t *testing.T) {
	out, errOut, code := execute(t, listCmd(), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("empty list")
	}
	for _, e := range got {
		for _, k := range []string{"id", "variant", "title", "labels", "catches", "status"} {
			if _, ok := e[k]; !ok {
				t.Fatalf("entry %v lacks %q", e, k)
			}
		}
	}
}

func TestListReadsIncidentFiles(t *testing.T) {
	p := writeFile(t, t.TempDir(), "inc.yaml", good)
	out, errOut, code := execute(t, listCmd(), p)
	if code != 0 || !strings.Contains(out, "INC-01") || !strings.Contains(out, "ready") {
		t.Errorf("exit %d, out %q, err %q", code, out, errOut)
	}
}
