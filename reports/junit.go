package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// The JUnit XML we write: the Surefire/Jenkins dialect (testsuites,
// testsuite, testcase, failure, error, skipped, flakyFailure, rerunFailure,
// system-out, system-err) that Jenkins, GitLab and GitHub actions read.
// reports/testdata/junit.xsd describes it; tests validate against it and,
// less the documented extensions, against the schema Jenkins published
// (junit_published_test.go).

type junitTestSuites struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Errors   int              `xml:"errors,attr"`
	Skipped  int              `xml:"skipped,attr"`
	Time     string           `xml:"time,attr"`
	Suites   []junitTestSuite `xml:"testsuite"`
}

type junitTestSuite struct {
	Name       string          `xml:"name,attr"`
	Package    string          `xml:"package,attr,omitempty"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties *junitProps     `xml:"properties"`
	Cases      []junitTestCase `xml:"testcase"`
}

type junitProps struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestCase struct {
	Name          string          `xml:"name,attr"`
	Classname     string          `xml:"classname,attr"`
	File          string          `xml:"file,attr,omitempty"`
	Line          int             `xml:"line,attr,omitempty"`
	Time          string          `xml:"time,attr"`
	Properties    *junitProps     `xml:"properties"`
	Failure       *junitResult    `xml:"failure"`
	RerunFailures []junitRerun    `xml:"rerunFailure"`
	FlakyFailures []junitRerun    `xml:"flakyFailure"`
	Skipped       *junitSkipped   `xml:"skipped"`
	Error         *junitResult    `xml:"error"`
	SystemOut     *junitCharsData `xml:"system-out"`
	SystemErr     *junitCharsData `xml:"system-err"`
}

type junitResult struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitRerun struct {
	Message    string `xml:"message,attr"`
	Type       string `xml:"type,attr"`
	StackTrace string `xml:"stackTrace"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitCharsData struct {
	Text string `xml:",chardata"`
}

// JUnitOptions adjust WriteJUnit.
type JUnitOptions struct {
	// AttachmentBase makes [[ATTACHMENT|path]] paths relative to it (GitLab
	// reads them relative to the project folder). Empty: absolute paths.
	AttachmentBase string
}

// WriteJUnit writes run as JUnit XML. Passed specs that needed a retry get
// one <flakyFailure> per failed attempt and the property flaky=true; failed
// specs that were retried get <rerunFailure> for the earlier attempts.
func WriteJUnit(w io.Writer, run Run, opts JUnitOptions) error {
	root := junitTestSuites{Name: "rehearsal", Time: seconds(run.Duration)}
	for _, s := range run.Suites {
		js := junitTestSuite{
			Name:      s.Path,
			Package:   s.Name,
			Time:      seconds(s.Duration),
			Timestamp: timestamp(s.Start),
		}
		if js.Name == "" {
			js.Name = s.Name
		}
		props := []junitProp{
			{"suite", s.Name},
			{"seed", fmt.Sprint(s.Seed)},
			{"succeeded", fmt.Sprint(s.Succeeded)},
		}
		if s.LabelFilter != "" {
			props = append(props, junitProp{"label-filter", s.LabelFilter})
		}
		for _, r := range s.Reasons {
			props = append(props, junitProp{"suite-failure-reason", r})
		}
		js.Properties = &junitProps{props}
		for _, sp := range s.Specs {
			tc := junitCase(sp, opts)
			js.Tests++
			switch {
			case tc.Failure != nil:
				js.Failures++
			case tc.Error != nil:
				js.Errors++
			case tc.Skipped != nil:
				js.Skipped++
			}
			js.Cases = append(js.Cases, tc)
		}
		root.Tests += js.Tests
		root.Failures += js.Failures
		root.Errors += js.Errors
		root.Skipped += js.Skipped
		root.Suites = append(root.Suites, js)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return fmt.Errorf("reports: encode JUnit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitCase(sp Spec, opts JUnitOptions) junitTestCase {
	tc := junitTestCase{
		Name:      sp.Name,
		Classname: sp.Classname,
		File:      sp.File,
		Line:      sp.Line,
		Time:      seconds(sp.Duration),
	}
	var props []junitProp
	for _, p := range sp.Properties {
		props = append(props, junitProp{p.Name, p.Value})
	}
	if len(props) > 0 {
		tc.Properties = &junitProps{props}
	}
	body := sp.Location
	if sp.Stack != "" {
		body += "\n" + sp.Stack
	}
	if sp.Message != "" {
		body = sp.Message + "\n\n" + body
	}
	if sp.Repro != "" && (sp.Status == StatusFailed || sp.Status == StatusError) {
		body += "\nrepro: " + sp.Repro
	}
	switch sp.Status {
	case StatusFailed:
		tc.Failure = &junitResult{Message: sp.Message, Type: sp.State, Body: body}
		for _, f := range sp.EarlierFailures {
			tc.RerunFailures = append(tc.RerunFailures, rerun(f))
		}
	case StatusError:
		tc.Error = &junitResult{Message: sp.Message, Type: sp.State, Body: body}
	case StatusFlaky:
		for _, f := range sp.EarlierFailures {
			tc.FlakyFailures = append(tc.FlakyFailures, rerun(f))
		}
		// Ginkgo records every failed attempt; if a report lost them, still
		// mark each retry so the flake is visible.
		for i := len(sp.EarlierFailures); i < sp.Attempts-1; i++ {
			tc.FlakyFailures = append(tc.FlakyFailures, junitRerun{
				Message: fmt.Sprintf("attempt %d failed; passed on attempt %d", i+1, sp.Attempts), Type: "failed",
				StackTrace: sp.File + ":" + fmt.Sprint(sp.Line),
			})
		}
	case StatusSkipped:
		msg := sp.Message
		if msg == "" {
			msg = "skipped"
		}
		tc.Skipped = &junitSkipped{Message: msg}
	case StatusPending:
		tc.Skipped = &junitSkipped{Message: "pending"}
	}
	var out strings.Builder
	for _, f := range sp.Evidence {
		fmt.Fprintf(&out, "[[ATTACHMENT|%s]]\n", attachmentPath(opts.AttachmentBase, f))
	}
	if sp.Output != "" {
		out.WriteString(sp.Output)
	}
	if out.Len() > 0 {
		tc.SystemOut = &junitCharsData{out.String()}
	}
	return tc
}

func rerun(f AttemptFailure) junitRerun {
	st := f.Location
	if f.Stack != "" {
		st += "\n" + f.Stack
	}
	return junitRerun{Message: firstLine(f.Message), Type: "failed", StackTrace: f.Message + "\n\n" + st}
}

func attachmentPath(base, path string) string {
	if base != "" {
		if rel, err := filepath.Rel(base, path); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(path)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}
