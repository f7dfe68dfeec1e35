package reports

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"rehearsal/harness/evidence"
	"rehearsal/harness/redact"
)

// Report entry names the reports read.
const (
	EntryEvidence   = "evidence"
	EntryScenarioID = "scenario-id"
	EntryRepro      = "repro"
)

// Status is what a reader is told about a spec.
type Status string

// The statuses. A spec that passed only after a retry is StatusFlaky;
// interrupted and panicked specs are StatusError (JUnit's <error>).
const (
	StatusPassed  Status = "passed"
	StatusFailed  Status = "failed"
	StatusError   Status = "error"
	StatusFlaky   Status = "flaky"
	StatusSkipped Status = "skipped"
	StatusPending Status = "pending"
)

// Options say where things are.
type Options struct {
	// RepoRoot makes file attributes, suite names and attachment paths
	// relative. Empty: the nearest folder holding go.mod above the suite.
	RepoRoot string
	// OutDir is where the HTML report is written; its image links are made
	// relative to it. Empty: the current directory.
	OutDir string
	// Redactor redacts every string written. Nil: a new redact.Redactor
	// (pattern rules only, no registered secrets).
	Redactor *redact.Redactor
}

// Run is one run's reports, collected, redacted and ready to write.
type Run struct {
	Suites   []Suite
	Counts   Counts
	Labels   []string // every label of every spec, sorted
	Start    time.Time
	Duration time.Duration
}

// Counts are what the HTML report heads with. Failed includes errors.
type Counts struct{ Total, Passed, Failed, Flaky, Skipped int }

// Suite is one Ginkgo suite of a run.
type Suite struct {
	Name        string // the suite's description
	Path        string // relative to the repo root, slash separated: "suites/baseline"
	Start       time.Time
	Duration    time.Duration
	Succeeded   bool
	Seed        int64
	LabelFilter string
	Reasons     []string // special suite failure reasons
	Specs       []Spec
}

// Spec is one spec (or failed suite-level node) as the reports show it.
type Spec struct {
	Name       string // container texts and leaf text, no labels
	Classname  string // "suites/baseline.TOK"
	File       string // relative to the repo root
	Line       int
	ScenarioID string
	Labels     []string
	Status     Status
	State      string // Ginkgo's state: passed, failed, timedout, ...
	Duration   time.Duration
	Attempts   int

	Message  string // failure or skip message
	Location string // file:line of the failure
	Stack    string
	// EarlierFailures are the failures of attempts before the last one.
	EarlierFailures []AttemptFailure
	Output          string // captured GinkgoWriter and stdout/stderr
	Properties      []Property
	Repro           string
	Evidence        []string // absolute paths of evidence files
	Bundles         []Bundle
}

// AttemptFailure is the failure of one earlier attempt of a retried spec.
type AttemptFailure struct {
	Message, Location, Stack string
}

// Property is a name/value pair for JUnit's properties.
type Property struct{ Name, Value string }

// Bundle is an evidence folder read back for the HTML report.
type Bundle struct {
	Dir         string
	Screenshots []Screenshot
	Faults      []evidence.FaultEvent
	Tokens      []evidence.TokenEvent
	Control     []evidence.ControlAction
	Counters    []Property
	Repro       string
	Files       []string // absolute paths
}

// Screenshot is a screenshot file and the phase it shows.
type Screenshot struct{ Path, Phase string }

// Load reads a Ginkgo JSON report: the []types.Report that --json-report
// writes, or a single types.Report.
func Load(path string) ([]types.Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var many []types.Report
	if err := json.Unmarshal(data, &many); err == nil {
		return many, nil
	}
	var one types.Report
	if err := json.Unmarshal(data, &one); err != nil {
		return nil, fmt.Errorf("reports: %s is not a Ginkgo JSON report ([]types.Report or types.Report): %w", path, err)
	}
	return []types.Report{one}, nil
}

var (
	scenarioIDRE = regexp.MustCompile(`^[A-Z]+-\d+`)
	ansiRE       = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")
)

// Collect turns Ginkgo reports into a Run: names, classnames, statuses,
// evidence read back, every string redacted. Passed suite-level nodes
// (BeforeSuite, ...) are left out; failed ones are kept so a broken setup
// shows.
func Collect(reports []types.Report, opts Options) Run {
	red := opts.Redactor
	if red == nil {
		red = redact.New()
	}
	c := collector{red: red, opts: opts}
	var run Run
	labels := map[string]bool{}
	for _, rep := range reports {
		s := c.suite(rep)
		for _, sp := range s.Specs {
			run.Counts.add(sp.Status)
			for _, l := range sp.Labels {
				labels[l] = true
			}
		}
		if run.Start.IsZero() || (!rep.StartTime.IsZero() && rep.StartTime.Before(run.Start)) {
			run.Start = rep.StartTime
		}
		run.Duration += rep.RunTime
		run.Suites = append(run.Suites, s)
	}
	for l := range labels {
		run.Labels = append(run.Labels, l)
	}
	sort.Strings(run.Labels)
	return run
}

func (c *Counts) add(s Status) {
	c.Total++
	switch s {
	case StatusPassed:
		c.Passed++
	case StatusFlaky:
		c.Flaky++
	case StatusFailed, StatusError:
		c.Failed++
	default:
		c.Skipped++
	}
}

type collector struct {
	red  *redact.Redactor
	opts Options
}

// clean makes captured text fit for a report: no terminal colours, no secrets.
func (c collector) clean(s string) string {
	return c.red.Redact(ansiRE.ReplaceAllString(s, ""))
}

func (c collector) suite(rep types.Report) Suite {
	root := c.opts.RepoRoot
	if root == "" {
		root = FindRepoRoot(rep.SuitePath)
	}
	s := Suite{
		Name:        c.clean(rep.SuiteDescription),
		Path:        suitePath(root, rep.SuitePath),
		Start:       rep.StartTime,
		Duration:    rep.RunTime,
		Succeeded:   rep.SuiteSucceeded,
		Seed:        rep.SuiteConfig.RandomSeed,
		LabelFilter: c.clean(rep.SuiteConfig.LabelFilter),
	}
	for _, r := range rep.SpecialSuiteFailureReasons {
		s.Reasons = append(s.Reasons, c.clean(r))
	}
	for _, sr := range rep.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt && !sr.Failed() {
			continue
		}
		s.Specs = append(s.Specs, c.spec(rep, s, root, sr))
	}
	return s
}

// StatusOf maps a Ginkgo spec report to the status the reports show.
func StatusOf(sr types.SpecReport) Status {
	switch {
	case sr.State == types.SpecStatePassed && sr.NumAttempts > 1 && sr.MaxMustPassRepeatedly <= 1:
		return StatusFlaky
	case sr.State == types.SpecStatePassed:
		return StatusPassed
	case sr.State == types.SpecStateSkipped:
		return StatusSkipped
	case sr.State == types.SpecStatePending:
		return StatusPending
	case sr.State.Is(types.SpecStateInterrupted | types.SpecStatePanicked):
		return StatusError
	default:
		return StatusFailed
	}
}

// SpecName is the stable name of a spec: its container texts and leaf text,
// without labels; suite-level nodes are named by type ("[BeforeSuite]").
func SpecName(sr types.SpecReport) string {
	if name := strings.TrimSpace(sr.FullText()); name != "" && sr.LeafNodeType == types.NodeTypeIt {
		return name
	} else if name != "" {
		return "[" + sr.LeafNodeType.String() + "] " + name
	}
	return "[" + sr.LeafNodeType.String() + "]"
}

// ScenarioID is the spec's scenario id: a "scenario-id" report entry, else
// the first label shaped like ^[A-Z]+-\d+ (TOK-01); empty if neither.
func ScenarioID(sr types.SpecReport) string {
	for _, e := range sr.ReportEntries {
		if e.Name == EntryScenarioID {
			if v := entryStrings(e); len(v) > 0 {
				return v[0]
			}
		}
	}
	for _, l := range sr.Labels() {
		if m := scenarioIDRE.FindString(l); m != "" && m == l {
			return l
		}
	}
	return ""
}

func (c collector) spec(rep types.Report, s Suite, root string, sr types.SpecReport) Spec {
	id := c.red.Redact(ScenarioID(sr))
	classname := s.Path
	if classname == "" || classname == "." {
		classname = s.Name
	}
	if id != "" {
		group, _, _ := strings.Cut(id, "-")
		classname += "." + group
	}
	sp := Spec{
		Name:       c.clean(SpecName(sr)),
		Classname:  classname,
		File:       relSlash(root, sr.LeafNodeLocation.FileName),
		Line:       sr.LeafNodeLocation.LineNumber,
		ScenarioID: id,
		Status:     StatusOf(sr),
		State:      sr.State.String(),
		Duration:   sr.RunTime,
		Attempts:   max(sr.NumAttempts, 1),
		Output:     c.clean(sr.CombinedOutput()),
	}
	for _, l := range sr.Labels() {
		sp.Labels = append(sp.Labels, c.red.Redact(l))
	}
	if !sr.Failure.IsZero() {
		sp.Message = c.clean(sr.Failure.Message)
		if sr.Failure.ForwardedPanic != "" {
			sp.Message = strings.TrimSpace(sp.Message + "\n" + c.clean(sr.Failure.ForwardedPanic))
		}
		sp.Location = c.location(root, sr.Failure.Location)
		sp.Stack = c.clean(sr.Failure.Location.FullStackTrace)
	}
	for _, af := range sr.AdditionalFailures {
		// Ginkgo records each failed attempt before a retry this way.
		if strings.HasPrefix(af.Failure.Message, "Failure recorded during attempt") {
			sp.EarlierFailures = append(sp.EarlierFailures, AttemptFailure{
				Message:  c.clean(af.Failure.Message),
				Location: c.location(root, af.Failure.Location),
				Stack:    c.clean(af.Failure.Location.FullStackTrace),
			})
		}
	}
	if id != "" {
		sp.Properties = append(sp.Properties, Property{"scenario-id", id})
	}
	if len(sp.Labels) > 0 {
		sp.Properties = append(sp.Properties, Property{"labels", strings.Join(sp.Labels, ",")})
	}
	sp.Properties = append(sp.Properties, Property{"attempts", fmt.Sprint(sp.Attempts)})
	if sp.Status == StatusFlaky {
		sp.Properties = append(sp.Properties, Property{"flaky", "true"})
	}
	var evidencePaths []string
	for _, e := range sr.ReportEntries {
		switch e.Name {
		case EntryEvidence:
			for _, p := range entryStrings(e) {
				if !filepath.IsAbs(p) && rep.SuitePath != "" {
					p = filepath.Join(rep.SuitePath, p) // Ginkgo runs a suite in its package folder
				}
				evidencePaths = append(evidencePaths, p)
			}
		case EntryRepro:
			if v := entryStrings(e); len(v) > 0 {
				sp.Repro = c.clean(v[0])
			}
		case EntryScenarioID:
		default:
			sp.Properties = append(sp.Properties, Property{c.clean(e.Name), c.clean(e.StringRepresentation())})
		}
	}
	sp.Evidence, sp.Bundles = c.evidence(evidencePaths)
	if sp.Repro == "" {
		for _, b := range sp.Bundles {
			if b.Repro != "" {
				sp.Repro = b.Repro
				break
			}
		}
	}
	if sp.Repro == "" && sr.LeafNodeType == types.NodeTypeIt {
		sp.Repro = c.red.Redact(fmt.Sprintf("go run github.com/onsi/ginkgo/v2/ginkgo --seed=%d --focus=%s ./%s",
			rep.SuiteConfig.RandomSeed, shellQuote(regexp.QuoteMeta(sr.FullText())), s.Path))
	}
	return sp
}

func (c collector) location(root string, loc types.CodeLocation) string {
	if loc.FileName == "" {
		return c.clean(loc.CustomMessage)
	}
	return c.clean(fmt.Sprintf("%s:%d", relSlash(root, loc.FileName), loc.LineNumber))
}

// entryStrings reads a report entry's value as one or more strings, both
// in-process (any value) and after a JSON round trip.
func entryStrings(e types.ReportEntry) []string {
	switch v := e.GetRawValue().(type) {
	case string:
		return []string{v}
	case []string:
		return v
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case nil:
		if e.Value.AsJSON != "" {
			var s string
			if json.Unmarshal([]byte(e.Value.AsJSON), &s) == nil {
				return []string{s}
			}
		}
		return nil
	default:
		return []string{e.StringRepresentation()}
	}
}

// evidence expands evidence paths (files, or bundle folders) into files and
// reads each bundle folder back for the HTML report.
func (c collector) evidence(paths []string) ([]string, []Bundle) {
	var files []string
	seen := map[string]bool{}
	addFile := func(p string) {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	var dirs []string
	seenDir := map[string]bool{}
	for _, p := range paths {
		info, err := os.Stat(p)
		dir := filepath.Dir(p)
		if err == nil && info.IsDir() {
			dir = p
			_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".tmp-") {
					addFile(q)
				}
				return nil
			})
		} else {
			addFile(p) // listed even if missing: the JUnit consumer will say so
		}
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		if !seenDir[dir] {
			seenDir[dir] = true
			dirs = append(dirs, dir)
		}
	}
	var bundles []Bundle
	for _, dir := range dirs {
		if b, ok := c.bundle(dir, files); ok {
			bundles = append(bundles, b)
		}
	}
	return files, bundles
}

func (c collector) bundle(dir string, files []string) (Bundle, bool) {
	b := Bundle{Dir: dir}
	for _, f := range files {
		if filepath.Dir(f) == dir {
			b.Files = append(b.Files, f)
		}
	}
	if len(b.Files) == 0 {
		return b, false
	}
	if man, err := evidence.ReadManifest(dir); err == nil {
		for _, mf := range man.Files {
			if mf.Kind == "screenshot" {
				b.Screenshots = append(b.Screenshots, Screenshot{Path: filepath.Join(dir, mf.Name), Phase: mf.Phase})
			}
		}
	} else {
		for _, f := range b.Files {
			if strings.EqualFold(filepath.Ext(f), ".png") {
				b.Screenshots = append(b.Screenshots, Screenshot{Path: f, Phase: strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))})
			}
		}
	}
	// Bundles are redacted when written; they are redacted once more here in
	// case one was written by other means.
	b.Faults, _ = evidence.ReadFaults(dir)
	b.Tokens, _ = evidence.ReadTokens(dir)
	b.Control, _ = evidence.ReadControl(dir)
	c.redactInPlace(&b.Faults)
	c.redactInPlace(&b.Tokens)
	c.redactInPlace(&b.Control)
	b.Repro, _ = evidence.ReadRepro(dir)
	b.Repro = c.red.Redact(b.Repro)
	if counters, err := evidence.ReadCounters(dir); err == nil && counters != nil {
		b.Counters = flattenCounters(c.red.RedactValue(counters))
	}
	return b, true
}

// redactInPlace redacts a value read from a bundle by a JSON round trip; on
// any error the value is dropped rather than shown unredacted.
func (c collector) redactInPlace(v any) {
	raw, err := json.Marshal(v)
	if err == nil {
		raw, err = c.red.RedactJSON(raw)
	}
	if err == nil {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		switch p := v.(type) {
		case *[]evidence.FaultEvent:
			*p = nil
		case *[]evidence.TokenEvent:
			*p = nil
		case *[]evidence.ControlAction:
			*p = nil
		}
	}
}

// flattenCounters turns counters.json (usually {"as:/token[refresh_token]": 1})
// into sorted name/value rows; nested objects become dotted names.
func flattenCounters(v any) []Property {
	var out []Property
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				name := k
				if prefix != "" {
					name = prefix + "." + k
				}
				walk(name, t[k])
			}
		default:
			b, _ := json.Marshal(t)
			out = append(out, Property{prefix, strings.Trim(string(b), `"`)})
		}
	}
	walk("", v)
	return out
}

// FindRepoRoot walks up from dir to the folder holding go.mod; "" if none.
func FindRepoRoot(dir string) string {
	for d := dir; d != "" && d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return ""
}

// suitePath names a suite by its folder relative to the repo root
// ("suites/baseline"). Without a root (a report read on another machine) it
// keeps what follows the last "suites/" folder, else the folder's name.
func suitePath(root, path string) string {
	if path == "" {
		return ""
	}
	if root != "" {
		if rel := relSlash(root, path); rel != filepath.ToSlash(path) {
			return rel
		}
	}
	slash := filepath.ToSlash(path)
	if i := strings.LastIndex(slash, "/suites/"); i >= 0 {
		return slash[i+1:]
	}
	return filepath.Base(path)
}

// relSlash is path relative to root with forward slashes, or path unchanged
// when it is not under root.
func relSlash(root, path string) string {
	if path == "" {
		return ""
	}
	if root != "" {
		if rel, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(path)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
