package scenarios

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// good is a minimal valid scenario; the malformed cases change one line.
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

func TestParseGood(t *testing.T) {
	sc, err := Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	s := sc[0]
	if s.Key() != "INC-01" || s.Labels[0] != "INC-01" {
		t.Errorf("key %q labels %v", s.Key(), s.Labels)
	}
	if got := s.Observe[0].Pos.String(); got != "good.yaml:9" {
		t.Errorf("expect step at %s, want good.yaml:9", got)
	}
	if s.Steady[0].Action.(*SignIn).From != "/" {
		t.Errorf("sign_in from default not applied")
	}
	if f := s.Inject[0].Action.(*Fault); f.Latency.D().Seconds() != 2 {
		t.Errorf("latency %v", f.Latency)
	}
	want := []string{"browser", "network-proxy:api"}
	if strings.Join(s.Requires, ",") != strings.Join(want, ",") {
		t.Errorf("requires %v, want %v", s.Requires, want)
	}
}

// Each malformed kind is reported at its line with what was expected.
func TestParseMalformed(t *testing.T) {
	cases := []struct {
		name, from, to string
		prefix, says   string
	}{
		{"unknown key", "title: keeps", "titel: keeps", "bad.yaml:2: ", `unknown key "titel"; expected one of: id, variant, title`},
		{"unknown step", "  - sign_in: alice", "  - log_in: alice", "bad.yaml:5: ", `unknown step "log_in"; expected one of:`},
		{"unknown step argument", "latency: 2s}", "latency: 2s, jiter: 1s}", "bad.yaml:7: ", `unknown key "jiter" in fault; expected one of:`},
		{"bad duration", "within: 10s", "within: 10 seconds", "bad.yaml:10: ", `"10 seconds" is not a duration; a Go duration`},
		{"number as duration", "within: 10s", "within: 10", "bad.yaml:10: ", `is not a duration`},
		{"unknown label", "[flow:api, tier:core]", "[flow:api, tier:nightly]", "bad.yaml:3: ", `unknown label "tier:nightly"; a label from the registry`},
		{"unknown defect", "labels: [", "catches: [api-sleeps]\nlabels: [", "bad.yaml:3: ", `unknown defect "api-sleeps"; expected one of: api-accepts-alg-none`},
		{"bad id", "id: INC-01", "id: inc 1", "bad.yaml:1: ", `id "inc 1" is malformed; an id of capital letters`},
		{"missing id", "id: INC-01\n", "", "bad.yaml:1: ", "the scenario has no id"},
		{"wrong type", "ui: {signed_in: alice}", "ui: [alice]", "bad.yaml:11: ", "a list where a mapping is expected"},
		{"wrong scalar type", "latency: 2s}", "latency: 2s, rate_kbps: fast}", "bad.yaml:7: ", "`rate_kbps` is \"fast\", of the wrong type; expected a whole number"},
		{"no expectation", "  - expect:\n      within: 10s\n      ui: {signed_in: alice}\n", "  - reload_page\n", "bad.yaml:1: ", "the scenario has no expectation"},
		{"step with three keys", "  - expect:\n      within: 10s\n      ui:", "  - expect:\n    within: 10s\n    ui:", "bad.yaml:9: ", "a step has 3 keys (expect, within, ui); indent the arguments of expect"},
		{"yaml syntax", "labels: [flow:api, tier:core]", "labels: [flow:api, tier:core", "bad.yaml:", "YAML: "},
		{"bad enum", "layer: network", "layer: netwrk", "bad.yaml:7: ", "fault `layer` is \"netwrk\"; expected one of: network, http, browser"},
		{"kind of other layer", "kind: latency, latency: 2s", "kind: respond, status: 500", "bad.yaml:7: ", "fault kind respond is a http fault, not network"},
		{"heal unknown fault", "heal: slow", "heal: fast", "bad.yaml:13: ", `heal names fault "fast", which is not active`},
		{"unknown control action", "  - sign_in: alice", "  - control: {target: as, action: reboot}", "bad.yaml:5: ", `unknown control action "reboot" for as; expected one of:`},
		{"bad counter", "ui: {signed_in: alice}", "counter: {\"as/token\": 1}", "bad.yaml:11: ", `counter "as/token" is malformed`},
		{"undefined tab", "ui: {signed_in: alice}", "ui: {tab: b, signed_in: alice}", "bad.yaml:11: ", `tab "b" is not defined before this step`},
		{"spa action on the AS", "  - sign_in: alice", "  - control: {target: as, action: set_scope, args: {scope: xxx}}", "bad.yaml:5: ", `unknown control action "set_scope" for as; expected one of:`},
		{"set_scope without scope", "  - sign_in: alice", "  - control: {target: spa, action: set_scope}", "bad.yaml:5: ", "control set_scope needs args.scope"},
		{"bad on_request", "latency: 2s}", "latency: 2s, on_request: callback}", "bad.yaml:7: ", `is "callback"`},
		{"on_request on a browser fault", "layer: network, kind: latency, latency: 2s}", "layer: browser, kind: offline, on_request: \"spa:/callback\"}", "bad.yaml:7: ", "fault kind offline takes no `on_request`"},
		{"draft without note", "labels: [", "status: draft\nlabels: [", "bad.yaml:3: ", "a draft scenario has no note"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, err := parseChanged(t, tc.from, tc.to)
			if err == nil {
				t.Fatalf("no error for:\n%s", src)
			}
			probs := Problems(err)
			if len(probs) == 0 {
				t.Fatalf("error is not an *Error: %v", err)
			}
			for _, p := range probs {
				if strings.HasPrefix(p.String(), tc.prefix) && strings.Contains(p.String(), tc.says) {
					return
				}
			}
			t.Errorf("want a problem starting %q containing %q, got:\n%v", tc.prefix, tc.says, err)
		})
	}
}

// All problems in a file are reported at once.
func TestParseReportsAllProblems(t *testing.T) {
	src := strings.NewReplacer("titel", "titel", "title: keeps", "titel: keeps", "tier:core", "tier:nightly", "within: 10s", "within: soon").Replace(good)
	_, err := Parse("bad.yaml", []byte(src))
	probs := Problems(err)
	var lines []string
	for _, p := range probs {
		lines = append(lines, p.String())
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{"bad.yaml:2: unknown key", "bad.yaml:3: unknown label", "bad.yaml:10: \"soon\" is not a duration"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestDuplicateAcrossFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"inc/a.yaml": {Data: []byte(good)},
		"inc/b.yaml": {Data: []byte("# the same id again\n" + good)},
	}
	_, err := LoadDir(fsys, "inc")
	if err == nil {
		t.Fatal("no error for a duplicate id across files")
	}
	want := "inc/b.yaml:2: duplicate scenario INC-01 (first at inc/a.yaml:1); each id+variant once; give this one another variant or id"
	if err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
	// A variant makes it unique.
	fsys["inc/b.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(good, "title:", "variant: slow-api\ntitle:", 1))}
	if _, err := LoadDir(fsys, "inc"); err != nil {
		t.Errorf("variant did not make the id unique: %v", err)
	}
}

func TestDuplicateInOneFile(t *testing.T) {
	_, err := Parse("two.yaml", []byte(good+"---\n"+good))
	if err == nil || !strings.HasPrefix(err.Error(), "two.yaml:15: duplicate scenario INC-01") {
		t.Errorf("got %v", err)
	}
}

var problemLine = regexp.MustCompile(`^[^\n]+:[0-9]+: `)

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("id: X-01\n"))
	f.Add([]byte("- a\n- b: [\n"))
	f.Add([]byte("steady: {a: b}\n"))
	f.Add([]byte("\ufeff%YAML 1.2\n---\n" + good + "---\n# c\n---\n...\n---\n" + good))
	f.Add([]byte("id: A-01\ntitle: t\nobserve:\n  - hold: {for: 1s, counter: {\"api:*\": {at_most: -1}}}\n"))
	for _, file := range []string{"catalogue/tokens.yaml", "catalogue/keys.yaml"} {
		if data, err := catalogueFS.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("fuzz.yaml", data)
		if err == nil {
			if len(sc) == 0 {
				t.Fatal("no error and no scenario")
			}
			return
		}
		probs := Problems(err)
		if len(probs) == 0 {
			t.Fatalf("error is not a problem list: %v", err)
		}
		for _, p := range probs {
			if p.Pos.File != "fuzz.yaml" {
				t.Fatalf("problem without the file name: %q", p)
			}
			if p.Pos.Line > 0 && !problemLine.MatchString(p.String()) {
				t.Fatalf("problem without file:line: %q", p)
			}
		}
	})
}

// The whole-file example in docs/scenarios.md parses.
func TestDocsExampleParses(t *testing.T) {
	data, err := os.ReadFile("../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "## A whole file")
	if !ok {
		t.Fatal("docs/scenarios.md has no \"A whole file\" section")
	}
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	example, _, _ := strings.Cut(rest, "```")
	if _, err := Parse("docs/scenarios.md example", []byte(example)); err != nil {
		t.Errorf("the example in docs/scenarios.md does not parse:\n%v", err)
	}
}

// A control step on the SPA host implies its control plane, as on the AS and API.
func TestSPAControlImpliesItsControlPlane(t *testing.T) {
	src := strings.Replace(good, "  - sign_in: alice\n", "  - control: {target: spa, action: set_scope, args: {scope: xxx}}\n  - sign_in: alice\n", 1)
	sc, err := Parse("spa.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"browser", "control-plane:spa", "network-proxy:api"}
	if got := sc[0].Requires; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("requires %v, want %v", got, want)
	}
}

// A rejected fault step still defines its name, so healing it later does not
// add a second, misleading problem.
func TestRejectedFaultStepReportsOneProblem(t *testing.T) {
	_, err := Parse("inc.yaml", []byte(`id: INC-01
title: api link down
labels: [flow:api]
inject:
  - fault: {name: apidown, link: api, layer: network, kind: down, latency: 5s}
observe:
  - expect: {within: 5s, ui: {error_code: connection_error}}
heal:
  - heal: apidown
`))
	probs := Problems(err)
	if len(probs) != 1 || !strings.Contains(probs[0].What, "takes no `latency`") {
		t.Fatalf("want exactly the one problem with the fault's arguments, got %v", err)
	}
}

// An armed fault needs the HTTP proxy of the link whose request arms it.
func TestOnRequestImpliesTheArmingLinksProxy(t *testing.T) {
	src := strings.Replace(good, "latency: 2s}", `latency: 2s, on_request: "spa:/callback"}`, 1)
	sc, err := Parse("armed.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := "browser,http-proxy:spa,network-proxy:api"
	if got := strings.Join(sc[0].Requires, ","); got != want {
		t.Errorf("requires %s, want %s", got, want)
	}
}

// Every scenario of a multi-document file is read, at its own line: empty and
// comment-only documents are skipped, never a scenario after them. A leading
// byte-order mark is not part of the first key.
func TestParseEveryDocument(t *testing.T) {
	second := strings.Replace(good, "INC-01", "INC-02", 1)
	cases := []struct {
		name, src string
		want      []string // key:line of each scenario
	}{
		{"two documents", good + "---\n" + second, []string{"INC-01:1", "INC-02:15"}},
		{"comment-only document between", good + "---\n# only a comment\n---\n" + second, []string{"INC-01:1", "INC-02:17"}},
		{"empty document between", good + "---\n---\n" + second, []string{"INC-01:1", "INC-02:16"}},
		{"empty documents between", good + "---\n\n---\n# c\n---\n" + second, []string{"INC-01:1", "INC-02:19"}},
		{"ended empty document between", good + "---\n...\n---\n" + second, []string{"INC-01:1", "INC-02:17"}},
		{"document end then an empty one", good + "...\n---\n---\n" + second, []string{"INC-01:1", "INC-02:17"}},
		{"empty document first", "---\n---\n" + good, []string{"INC-01:3"}},
		{"comment-only document first", "# header\n---\n# nothing\n---\n" + good, []string{"INC-01:5"}},
		{"empty documents last", good + "---\n# c\n---\n", []string{"INC-01:1"}},
		{"directive", "%YAML 1.2\n---\n" + good + "---\n---\n" + second, []string{"INC-01:3", "INC-02:18"}},
		{"directives", "%TAG !e! tag:example.com,2000:\n---\n" + good + "...\n%YAML 1.2\n---\n" + second, []string{"INC-01:3", "INC-02:19"}},
		{"byte-order mark", "\ufeff" + good, []string{"INC-01:1"}},
		{"byte-order mark and ---", "\ufeff---\n" + good + "---\n---\n" + second, []string{"INC-01:2", "INC-02:17"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Parse("multi.yaml", []byte(tc.src))
			if err != nil {
				t.Fatalf("unexpected problems:\n%v", err)
			}
			var got []string
			for _, s := range sc {
				got = append(got, fmt.Sprintf("%s:%d", s.Key(), s.Pos.Line))
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got scenarios %v, want %v", got, tc.want)
			}
		})
	}
}

// Each problem is reported once, at the line where it is, with a non-empty
// expectation.
func TestParseReportsEachProblemOnce(t *testing.T) {
	cases := []struct {
		name, from, to string
		want           []string // prefixes of all the problems, in order
	}{
		{"id is a number", "id: INC-01", "id: 42", []string{"bad.yaml:1: `id` is the number 42; expected text: an id of capital letters"}},
		{"title is a number", "title: keeps the user signed in when the API is slow", "title: 7", []string{"bad.yaml:2: `title` is the number 7; expected text: a behaviour sentence"}},
		{"status is a list", "labels: [", "status: [draft]\nlabels: [", []string{"bad.yaml:3: `status` is a list; expected text: ready or draft"}},
		{"unknown control target", "  - sign_in: alice", "  - control: {target: db, action: set_scope, args: {scope: x}}",
			[]string{`bad.yaml:5: control ` + "`target`" + ` is "db"; expected one of: as, api, spa`}},
		{"unknown control target and action", "  - sign_in: alice", "  - control: {target: db, action: reboot}",
			[]string{`bad.yaml:5: control ` + "`target`" + ` is "db"; expected one of: as, api, spa`, `bad.yaml:5: unknown control action "reboot"; expected one of: ` + strings.Join(ControlActions(""), ", ")}},
		{"control without target", "  - sign_in: alice", "  - control: {action: set_scope, args: {scope: x}}",
			[]string{"bad.yaml:5: control needs `target`; add `target: ...`"}},
		{"hold for zero", "  - expect:\n      within: 10s", "  - hold:\n      for: 0s", []string{"bad.yaml:10: hold `for` is zero; a duration of more than zero, such as 10s"}},
		{"expect within zero", "within: 10s", "within: 0ms", []string{"bad.yaml:10: expect `within` is zero; a duration of more than zero"}},
		{"advance_clock by zero", "  - sign_in: alice", "  - advance_clock: 0s\n  - sign_in: alice", []string{"bad.yaml:5: advance_clock `by` is zero; a duration of more than zero"}},
		{"hold without for", "  - expect:\n      within: 10s\n", "  - hold:\n", []string{"bad.yaml:9: hold needs `for`; add `for: ...`"}},
		{"empty user", "  - sign_in: alice", "  - sign_in: {user: \"\"}", []string{"bad.yaml:5: sign_in `user` is empty; a value for `user`"}},
		{"unclosed flow mapping", "ui: {signed_in: alice}", "ui: {signed_in: alice", []string{"bad.yaml:11: YAML: ',' or '}' must be specified"}},
		{"unclosed flow sequence", "tier:core]", "tier:core\n# a comment\n", []string{"bad.yaml:3: YAML: ',' or ']' must be specified"}},
		{"unclosed flow mapping over lines", "latency: 2s}", "latency: 2s,\n    jitter: 1s", []string{"bad.yaml:8: YAML: ',' or '}' must be specified"}},
		{"syntax error in one document", "  - heal: slow\n", "  - heal: slow\n---\nid: INC-02\ntitle: [x\n---\nid: bad id\ntitle: t\nobserve:\n  - expect: {within: 1s, ui: {signed_in: a}}\n",
			[]string{"bad.yaml:16: YAML: sequence end token ']' not found", `bad.yaml:18: id "bad id" is malformed`}},
		{"only empty documents", good, "---\n# nothing\n---\n", []string{"bad.yaml:1: the file holds no scenario"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseChanged(t, tc.from, tc.to)
			probs := Problems(err)
			ok := len(probs) == len(tc.want)
			for i := 0; ok && i < len(probs); i++ {
				ok = strings.HasPrefix(probs[i].String(), tc.want[i]) && !strings.HasSuffix(probs[i].String(), ": ")
			}
			if !ok {
				t.Errorf("got:\n%v\nwant problems starting:\n%s", err, strings.Join(tc.want, "\n"))
			}
		})
	}
}

// parseChanged parses the good file with from replaced by to, as bad.yaml.
func parseChanged(t *testing.T, from, to string) (string, error) {
	t.Helper()
	src := strings.Replace(good, from, to, 1)
	if src == good {
		t.Fatalf("case did not change the file")
	}
	_, err := Parse("bad.yaml", []byte(src))
	return src, err
}
