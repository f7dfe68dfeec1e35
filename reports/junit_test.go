package reports

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func writeJUnitFile(t *testing.T, f fixture) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, f.collect(f.Root), JUnitOptions{AttachmentBase: f.Root}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes()
}

func TestJUnitValidatesAgainstSchema(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		missing(t, "xmllint not found: install libxml2-utils (make setup does) to check the JUnit XML against reports/testdata/junit.xsd")
	}
	path, _ := writeJUnitFile(t, newFixture(t))
	out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "junit.xsd"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("JUnit XML does not validate against testdata/junit.xsd: %v\n%s", err, out)
	}
	// The check must be able to fail: an element the schema does not know.
	bad := filepath.Join(t.TempDir(), "bad.xml")
	data, _ := os.ReadFile(path)
	os.WriteFile(bad, bytes.Replace(data, []byte("<skipped "), []byte("<ignored "), 1), 0o644)
	if err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "junit.xsd"), bad).Run(); err == nil {
		t.Error("the schema accepted an unknown element; it checks nothing")
	}
}

// Parsed shape of what we wrote, read back the way a consumer would.
type readCase struct {
	Name      string `xml:"name,attr"`
	Classname string `xml:"classname,attr"`
	File      string `xml:"file,attr"`
	Props     []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
	Failure *struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Body    string `xml:",chardata"`
	} `xml:"failure"`
	Flaky []struct {
		Message    string `xml:"message,attr"`
		StackTrace string `xml:"stackTrace"`
	} `xml:"flakyFailure"`
	Skipped *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
	SystemOut string `xml:"system-out"`
}

func (c readCase) prop(name string) string {
	for _, p := range c.Props {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

func TestJUnitContent(t *testing.T) {
	f := newFixture(t)
	_, data := writeJUnitFile(t, f)
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name  string     `xml:"name,attr"`
			Cases []readCase `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if doc.Tests != 4 || doc.Failures != 1 || doc.Skipped != 1 || len(doc.Suites) != 1 || doc.Suites[0].Name != "suites/baseline" {
		t.Fatalf("counts or suite wrong (the passed BeforeSuite must be left out): %+v\n%s", doc, data)
	}
	cases := map[string]readCase{}
	for _, c := range doc.Suites[0].Cases {
		cases[c.Name] = c
	}
	failed, ok := cases[failedName]
	if !ok {
		t.Fatalf("no test case named %q (names are container and leaf texts, no labels): %v", failedName, cases)
	}
	if failed.Classname != "suites/baseline.TOK" || failed.File != "suites/baseline/tokens_test.go" || failed.prop("scenario-id") != "TOK-02" {
		t.Errorf("failed case attributes: %+v", failed)
	}
	if failed.Failure == nil || !strings.Contains(failed.Failure.Message, "Expected the error panel") ||
		!strings.Contains(failed.Failure.Body, "suites/baseline/tokens_test.go:47") || !strings.Contains(failed.Failure.Body, "repro: ginkgo --label-filter=TOK-02") {
		t.Errorf("failure element: %+v", failed.Failure)
	}
	if !strings.Contains(failed.SystemOut, "[[ATTACHMENT|out/evidence/TOK-02/attempt-1/screenshot-01-failure.png]]") ||
		!strings.Contains(failed.SystemOut, "[[ATTACHMENT|out/evidence/TOK-02/attempt-1/tokens.json]]") {
		t.Errorf("attachments missing from system-out:\n%s", failed.SystemOut)
	}
	if strings.Contains(failed.SystemOut, "\x1b") {
		t.Error("terminal colour codes left in system-out")
	}

	flaky := cases[flakyName]
	if flaky.Classname != "suites/baseline.KEY" || flaky.prop("flaky") != "true" || flaky.prop("scenario-id") != "KEY-03" || flaky.Failure != nil {
		t.Errorf("flaky case: %+v", flaky)
	}
	if len(flaky.Flaky) != 1 || !strings.Contains(flaky.Flaky[0].StackTrace, "got 401") {
		t.Errorf("flaky case needs one flakyFailure with the first attempt's failure: %+v", flaky.Flaky)
	}
	if !strings.Contains(flaky.SystemOut, "[[ATTACHMENT|out/evidence/KEY-03/attempt-1/screenshot-01-after_switch.png]]") {
		t.Errorf("flaky attachment: %q", flaky.SystemOut)
	}

	skipped := cases["Control plane revokes every session on emergency rotation"]
	if skipped.Skipped == nil || !strings.Contains(skipped.Skipped.Message, "no control plane") {
		t.Errorf("skipped case: %+v", skipped)
	}
	passed := cases["Token refresh keeps the user signed in when one refresh hits a connection reset"]
	if passed.Classname != "suites/baseline.TOK" || passed.prop("labels") != "TOK-01,flow:refresh,link:as" || passed.prop("flaky") != "" {
		t.Errorf("passed case: %+v", passed)
	}
}
