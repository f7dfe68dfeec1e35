package harness

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The import direction of DESIGN.md ("Layout and who may import whom"),
// checked on the module's non-test imports: suites -> scenarios -> harness ->
// fixtures, only harness/embedded reaching into fixtures, reports reading
// only harness's evidence and redaction, and nothing importing suites or cmd.
// Each package's doc.go states its own part of the rule.
var layering = []struct {
	pkg   string   // a package path prefix within the module
	allow []string // module package prefixes it may import
}{
	{"fixtures", []string{"fixtures"}},
	{"harness/embedded", []string{"fixtures", "harness"}},
	{"harness", []string{"harness"}},
	{"scenarios/specs", []string{"scenarios", "harness", "reports/ginkgoreport"}},
	{"scenarios", []string{"scenarios", "harness"}},
	{"reports/ginkgoreport", []string{"reports", "harness/redact", "harness/evidence"}},
	{"reports", []string{"reports", "harness/redact", "harness/evidence"}},
	{"suites", []string{"scenarios/specs", "harness/config"}},
	{"cmd", []string{"harness", "scenarios", "reports"}},
}

func TestPackagesImportOnlyDownTheLayers(t *testing.T) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	const module = "rehearsal/"
	checked := 0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		pkg := strings.TrimPrefix(fields[0], module)
		var allow []string
		found := false
		for _, l := range layering {
			if under(pkg, l.pkg) {
				allow, found = l.allow, true
				break
			}
		}
		if !found {
			t.Errorf("%s is in no layer of DESIGN.md; add it to the layering table with what it may import", pkg)
			continue
		}
		checked++
		for _, imp := range fields[1:] {
			if under(pkg, "harness") && strings.HasPrefix(imp, "github.com/onsi/") {
				t.Errorf("%s imports %s; harness is plain Go, without Ginkgo or Gomega (harness/doc.go)", pkg, imp)
			}
			if !strings.HasPrefix(imp, module) {
				continue
			}
			imp = strings.TrimPrefix(imp, module)
			ok := false
			for _, a := range allow {
				ok = ok || under(imp, a)
			}
			if !ok {
				t.Errorf("%s imports %s; its layer may import only %v (DESIGN.md, and the package's doc.go)", pkg, imp, allow)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d packages; go list found too few to mean anything:\n%s", checked, out)
	}
}

// under reports whether pkg is prefix or a package below it.
func under(pkg, prefix string) bool {
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}
