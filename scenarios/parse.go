package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

var (
	idPattern      = regexp.MustCompile(`^[A-Z][A-Z0-9]*-[0-9]{2,}$`)
	variantPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	namePattern    = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	counterPattern = regexp.MustCompile(`^(spa|as|api|jwks):(\*|/[^\s\[\]*]*)(\[[a-z_]+\])?$`)
)

const (
	wantID      = "an id of capital letters, a dash and two or more digits, such as TOK-04"
	wantVariant = "a variant of lower-case words joined by dashes, such as as-down"
	wantCounter = "a counter written link:path[grant_type], such as as:/token[refresh_token] or api:* (links: spa, as, api, jwks)"
)

// topKeys are the keys a scenario may have, in the order docs list them.
var topKeys = []string{"id", "variant", "title", "status", "note", "labels", "sources", "catches",
	"requires", "timeout", "steady", "inject", "observe", "heal", "recover"}

// views are the SPA's data views (docs/spa-roles.md).
var views = []string{"companies-view", "company-view", "home-view", "me-view", "transactions-view"}

// ParseFile reads and parses one scenario file.
func ParseFile(name string) ([]*Scenario, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return Parse(name, data)
}

// Parse parses the scenarios in one file (one per YAML document, separated
// by ---). name is used in positions. Every problem found is reported at once
// in an *Error; on error no scenarios are returned.
func Parse(name string, data []byte) ([]*Scenario, error) {
	p := &fileParser{file: name}
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // a byte-order mark is not part of the first key
	var out []*Scenario
	for _, toks := range documents(lexer.Tokenize(string(data))) {
		f, err := parser.Parse(toks, 0)
		if err != nil {
			p.probs = append(p.probs, p.syntaxProblem(err, toks))
			continue
		}
		for _, doc := range f.Docs {
			body := doc.Body
			if body == nil {
				continue
			}
			switch body.(type) {
			case *ast.CommentGroupNode, *ast.DirectiveNode: // %YAML 1.2 says nothing about a scenario
				continue
			}
			if s := p.scenario(body); s != nil {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 && len(p.probs) == 0 {
		p.add(Pos{File: name, Line: 1}, "the file holds no scenario", "at least one YAML document with id, title and steps")
	}
	p.probs = append(p.probs, duplicates(out)...)
	if err := newError(p.probs); err != nil {
		return nil, err
	}
	return out, nil
}

// documents splits the tokens of a file into its YAML documents, each to be
// parsed on its own, and leaves out comments and documents with nothing in
// them (a --- followed by ---, by ... or only by comments). goccy/go-yaml
// reads a stream itself but stops at an empty document and silently drops
// every document after it, so the stream is never handed to it whole.
// Directives (%YAML) stay with the document they precede.
func documents(tokens token.Tokens) []token.Tokens {
	var docs []token.Tokens
	var cur token.Tokens
	started := false   // cur has a --- or content, so a directive or --- begins the next document
	content := false   // cur has more than --- and ...
	directiveLine := 0 // the line of the last directive, whose name and value follow it
	flush := func() {
		if content {
			docs = append(docs, cur)
		}
		cur, started, content = nil, false, false
	}
	for _, tk := range tokens {
		switch {
		case tk.Type == token.CommentType:
			continue
		case tk.Type == token.DirectiveType:
			if started {
				flush()
			}
			directiveLine = tk.Position.Line
			content = true // parsed even without a ---, so that a stray one is reported
		case tk.Position.Line == directiveLine:
		case tk.Type == token.DocumentHeaderType:
			if started {
				flush()
			}
			started = true
		case tk.Type == token.DocumentEndType:
			cur = append(cur, tk)
			flush()
			continue
		default:
			started, content = true, true
		}
		cur = append(cur, tk)
	}
	flush()
	return docs
}

// LoadDir parses every *.yaml and *.yml file under dir in fsys and checks
// the result as a whole (no id+variant twice). Problems in all files are
// reported together.
func LoadDir(fsys fs.FS, dir string) ([]*Scenario, error) {
	var all []*Scenario
	var probs []Problem
	err := fs.WalkDir(fsys, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || (path.Ext(name) != ".yaml" && path.Ext(name) != ".yml") {
			return nil
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sc, err := Parse(name, data)
		probs = append(probs, Problems(err)...)
		all = append(all, sc...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := Validate(all); err != nil {
		probs = append(probs, Problems(err)...)
	}
	if err := newError(probs); err != nil {
		return nil, err
	}
	return all, nil
}

// Validate checks a set of parsed scenarios as a whole: every id+variant at
// most once. (Each scenario was already checked on its own by Parse.)
func Validate(sc []*Scenario) error {
	return newError(duplicates(sc))
}

func duplicates(sc []*Scenario) []Problem {
	var probs []Problem
	first := map[string]*Scenario{}
	for _, s := range sc {
		if prev, dup := first[s.Key()]; dup {
			probs = append(probs, Problem{Pos: s.Pos,
				What: fmt.Sprintf("duplicate scenario %s (first at %s)", s.Key(), prev.Pos),
				Want: "each id+variant once; give this one another variant or id"})
			continue
		}
		first[s.Key()] = s
	}
	return probs
}

// fileParser collects the problems of one file.
type fileParser struct {
	file  string
	probs []Problem
}

func (p *fileParser) add(pos Pos, what, want string) {
	p.probs = append(p.probs, Problem{Pos: pos, What: what, Want: want})
}

func (p *fileParser) pos(node ast.Node) Pos { return posOf(p.file, node) }

// yamlProblem turns an error from goccy/go-yaml (or one of our UnmarshalYAML
// methods) into a positioned problem.
func (p *fileParser) yamlProblem(err error) Problem {
	var pe *posError
	if errors.As(err, &pe) {
		return Problem{Pos: posOfToken(p.file, pe.tok), What: pe.what, Want: pe.want}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		field := "value"
		if te.StructFieldName != nil {
			field = "`" + yamlFieldName(*te.StructFieldName) + "`"
		}
		val := "this value"
		if te.Token != nil {
			val = fmt.Sprintf("%q", te.Token.Value)
		}
		return Problem{Pos: posOfToken(p.file, te.Token),
			What: fmt.Sprintf("%s is %s, of the wrong type", field, val),
			Want: "expected " + kindName(te.DstType)}
	}
	var ue *yaml.UnexpectedNodeTypeError
	if errors.As(err, &ue) {
		return Problem{Pos: posOfToken(p.file, ue.Token),
			What: fmt.Sprintf("%s where %s is expected", article(ue.Actual.YAMLName()), article(ue.Expected.YAMLName())),
			Want: "write it as " + shapeOf(ue.Expected.YAMLName()) + " (see docs/scenarios.md)"}
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		want := "valid YAML: check indentation, quoting and that each key: value is on its own line"
		if _, unknown := ye.(*yaml.UnknownFieldError); unknown {
			want = "only the keys listed in docs/scenarios.md"
		}
		return Problem{Pos: posOfToken(p.file, ye.GetToken()), What: "YAML: " + ye.GetMessage(), Want: want}
	}
	return Problem{Pos: Pos{File: p.file}, What: err.Error(), Want: "a well-formed scenario file"}
}

// syntaxProblem is yamlProblem for an error of the YAML parser on the tokens
// toks. An unclosed flow mapping or list is noticed only at the first token
// of a following line, but its , or closing bracket is missing after the
// token before that, so the problem is put on that token's line.
func (p *fileParser) syntaxProblem(err error, toks token.Tokens) Problem {
	prob := p.yamlProblem(err)
	var se *yaml.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil {
		return prob
	}
	closer := map[string]string{"',' or '}' must be specified": "}", "',' or ']' must be specified": "]"}[se.Message]
	i := slices.Index(toks, se.Token)
	if closer == "" || i < 1 || toks[i-1].Position == nil || toks[i-1].Position.Line >= se.Token.Position.Line {
		return prob
	}
	prob.Pos = posOfToken(p.file, toks[i-1])
	prob.Want = fmt.Sprintf("a %s at the end of this line to close the %s, or a , before the next entry", closer, map[string]string{"}": "{...} mapping", "]": "[...] list"}[closer])
	return prob
}

func article(yamlName string) string {
	switch yamlName {
	case "sequence":
		return "a list"
	case "mapping":
		return "a mapping"
	}
	return "a " + yamlName
}

func shapeOf(yamlName string) string {
	switch yamlName {
	case "sequence":
		return "a list, [a, b] or lines starting with -"
	case "mapping":
		return "key: value pairs, {k: v} or indented lines"
	}
	return "a single value"
}

// unwrap removes anchors and tags, which carry no meaning in scenarios.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

func mappingPairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}, true
	}
	return nil, false
}

func keyText(k ast.MapKeyNode) string {
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	if tk := k.GetToken(); tk != nil {
		return tk.Value
	}
	return k.String()
}

func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// ---- the scenario ----------------------------------------------------------

func (p *fileParser) scenario(body ast.Node) *Scenario {
	body = unwrap(body)
	s := &Scenario{Pos: p.pos(body), Status: StatusReady}
	before := len(p.probs)
	pairs, ok := mappingPairs(body)
	if !ok {
		p.add(s.Pos, "a scenario is "+describeNode(body), "a mapping with id, title, labels and the phases steady, inject, observe, heal, recover")
		return nil
	}
	keyPos := map[string]Pos{}
	info := map[string][]stepInfo{}
	wrongType := map[string]bool{} // keys whose value is not text, already reported
	for _, mv := range pairs {
		key, v, kp := keyText(mv.Key), unwrap(mv.Value), p.pos(mv.Key)
		keyPos[key] = kp
		text := func(dst *string, want string) {
			n := len(p.probs)
			t := p.text(v, key, want)
			if wrongType[key] = len(p.probs) > n; !wrongType[key] {
				*dst = t
			}
		}
		switch key {
		case "id":
			text(&s.ID, wantID)
		case "variant":
			text(&s.Variant, wantVariant)
		case "title":
			text(&s.Title, "a behaviour sentence")
		case "status":
			text(&s.Status, "ready or draft")
		case "note":
			text(&s.Note, "text")
		case "labels":
			s.Labels = p.texts(v, key)
		case "sources":
			s.Sources = p.texts(v, key)
		case "catches":
			s.Catches = p.texts(v, key)
		case "requires":
			s.Requires = p.texts(v, key)
		case "timeout":
			p.decode(v, &s.Timeout)
		case "steady", "inject", "observe", "heal", "recover":
			*s.phase(key), info[key] = p.steps(v, key)
		default:
			p.add(kp, fmt.Sprintf("unknown key %q", key), oneOf(topKeys))
		}
	}
	at := func(key string) Pos {
		if kp, ok := keyPos[key]; ok {
			return kp
		}
		return s.Pos
	}
	switch {
	case wrongType["id"]:
	case s.ID == "":
		p.add(s.Pos, "the scenario has no id", wantID)
	case !idPattern.MatchString(s.ID):
		p.add(at("id"), fmt.Sprintf("id %q is malformed", s.ID), wantID)
	}
	if s.Variant != "" && !variantPattern.MatchString(s.Variant) {
		p.add(at("variant"), fmt.Sprintf("variant %q is malformed", s.Variant), wantVariant)
	}
	if strings.TrimSpace(s.Title) == "" && !wrongType["title"] {
		p.add(s.Pos, "the scenario has no title", "title: a behaviour sentence, such as \"keeps the user signed in when one refresh hits a reset\"")
	}
	switch s.Status {
	case StatusReady:
	case StatusDraft:
		if strings.TrimSpace(s.Note) == "" && !wrongType["note"] {
			p.add(at("status"), "a draft scenario has no note", "note: what the vocabulary cannot express yet")
		}
	default:
		p.add(at("status"), fmt.Sprintf("status %q is unknown", s.Status), "expected ready or draft")
	}
	for _, l := range s.Labels {
		if !IsLabel(l) {
			p.add(at("labels"), fmt.Sprintf("unknown label %q", l), "a label from the registry in scenarios/labels.go ("+suggestLabel(l)+")")
		}
	}
	for _, d := range s.Catches {
		if !IsDefect(d) {
			p.add(at("catches"), fmt.Sprintf("unknown defect %q", d), oneOf(defectNames))
		}
	}
	for _, c := range s.Requires {
		if !slices.Contains(capabilities, c) {
			p.add(at("requires"), fmt.Sprintf("unknown capability %q", c), oneOf(capabilities))
		}
	}
	if s.Timeout < 0 {
		p.add(at("timeout"), "timeout is negative", "a positive duration such as 2m")
	}
	if !hasExpectation(s) && len(p.probs) == before {
		p.add(s.Pos, "the scenario has no expectation", "at least one expect, hold or wait step (a rehearsal must check something)")
	}
	p.crossReferences(s, info)

	s.Requires = impliedRequirements(s)
	s.Labels = withID(s.ID, s.Labels)
	return s
}

func suggestLabel(l string) string {
	group, _, ok := strings.Cut(l, ":")
	var vals []string
	for _, g := range labelGroups {
		if ok && g.Name == group {
			for _, v := range g.Values {
				vals = append(vals, g.Name+":"+v)
			}
			return "for " + group + ": " + strings.Join(vals, ", ")
		}
	}
	names := make([]string, len(labelGroups))
	for i, g := range labelGroups {
		names[i] = g.Name
	}
	return "written group:value with group one of " + strings.Join(names, ", ")
}

func withID(id string, labels []string) []string {
	out := []string{}
	if id != "" {
		out = append(out, id)
	}
	for _, l := range labels {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

func hasExpectation(s *Scenario) bool {
	for _, ph := range s.Phases() {
		for _, st := range ph.Steps {
			if spec, _ := stepByName(st.Name); spec.expectation {
				return true
			}
		}
	}
	return false
}

func (p *fileParser) text(v ast.Node, key, want string) string {
	switch n := v.(type) {
	case *ast.StringNode:
		return n.Value
	case *ast.LiteralNode:
		return n.Value.Value
	case *ast.NullNode:
		return ""
	}
	p.add(p.pos(v), fmt.Sprintf("`%s` is %s", key, describeNode(v)), "expected text: "+want)
	return ""
}

func (p *fileParser) texts(v ast.Node, key string) []string {
	if isNull(v) {
		return nil
	}
	seq, ok := v.(*ast.SequenceNode)
	if !ok {
		p.add(p.pos(v), fmt.Sprintf("`%s` is %s", key, describeNode(v)), "expected a list of text, such as [a, b]")
		return nil
	}
	var out []string
	for _, item := range seq.Values {
		item = unwrap(item)
		if s, ok := item.(*ast.StringNode); ok {
			out = append(out, s.Value)
			continue
		}
		p.add(p.pos(item), fmt.Sprintf("an entry of `%s` is %s", key, describeNode(item)), "expected text")
	}
	return out
}

// decode decodes one node strictly with goccy/go-yaml, reporting any error at
// its position.
func (p *fileParser) decode(node ast.Node, ptr any) bool {
	if err := yaml.NodeToValue(node, ptr, yaml.Strict()); err != nil {
		p.probs = append(p.probs, p.yamlProblem(err))
		return false
	}
	return true
}

// ---- steps -----------------------------------------------------------------

// stepInfo is what a step defines and refers to, for cross-reference checks.
type stepInfo struct {
	refs []ref
}

type ref struct {
	kind string // tab, memory
	name string
	pos  Pos
}

func (p *fileParser) steps(v ast.Node, phase string) ([]Step, []stepInfo) {
	if isNull(v) {
		return nil, nil
	}
	seq, ok := v.(*ast.SequenceNode)
	if !ok {
		p.add(p.pos(v), fmt.Sprintf("`%s` is %s", phase, describeNode(v)), "expected a list of steps, each `- step_name: arguments`")
		return nil, nil
	}
	var steps []Step
	var infos []stepInfo
	for _, item := range seq.Values {
		// A step with problems is kept when its arguments decoded, so that the
		// names it defines (a fault's name, a save_as) do not cause a second,
		// misleading "not defined" problem later in the file; the file is
		// rejected anyway.
		if st, inf, ok := p.step(unwrap(item)); ok || st.Action != nil {
			steps = append(steps, st)
			infos = append(infos, inf)
		}
	}
	return steps, infos
}

func (p *fileParser) step(item ast.Node) (Step, stepInfo, bool) {
	pos := p.pos(item)
	if n, ok := item.(*ast.StringNode); ok {
		spec, known := stepByName(n.Value)
		if !known {
			p.add(pos, fmt.Sprintf("unknown step %q", n.Value), oneOf(StepNames()))
			return Step{}, stepInfo{}, false
		}
		if !spec.bare {
			p.add(pos, fmt.Sprintf("step %s needs arguments", spec.name), "write it as `- "+spec.name+": ...` (see docs/scenarios.md)")
			return Step{}, stepInfo{}, false
		}
		return Step{Pos: pos, Name: spec.name, Action: spec.new()}, stepInfo{}, true
	}
	pairs, ok := mappingPairs(item)
	if !ok {
		p.add(pos, "a step is "+describeNode(item), "`- step_name` or `- step_name: arguments`")
		return Step{}, stepInfo{}, false
	}
	if len(pairs) != 1 {
		keys := make([]string, len(pairs))
		for i, mv := range pairs {
			keys[i] = keyText(mv.Key)
		}
		want := "one key per step, the step's name, with its arguments indented under it"
		if _, known := stepByName(keys[0]); known && isNull(pairs[0].Value) {
			want = fmt.Sprintf("indent the arguments of %s further than its name", keys[0])
		}
		p.add(pos, fmt.Sprintf("a step has %d keys (%s)", len(pairs), strings.Join(keys, ", ")), want)
		return Step{}, stepInfo{}, false
	}
	name := keyText(pairs[0].Key)
	spec, known := stepByName(name)
	if !known {
		p.add(pos, fmt.Sprintf("unknown step %q", name), oneOf(StepNames()))
		return Step{}, stepInfo{}, false
	}
	act := spec.new()
	before := len(p.probs)
	v := unwrap(pairs[0].Value)
	var args ast.Node // the mapping of arguments, for positions of fields
	switch {
	case isNull(v):
	case isMapping(v):
		args = v
		p.decodeArgs(v, act, name)
	default:
		p.decodeScalar(spec, v, act)
	}
	var info stepInfo
	if len(p.probs) == before {
		given := func(key string) bool { return !isNull(valueOf(args, key)) }
		if args == nil && !isNull(v) {
			given = func(key string) bool { return key == spec.scalar }
		}
		p.checkFields(reflect.ValueOf(act).Elem(), args, name, pos, &info, given)
		p.checkAction(act, args, pos)
	}
	return Step{Pos: pos, Name: name, Action: act}, info, len(p.probs) == before
}

func isMapping(n ast.Node) bool {
	_, ok := mappingPairs(n)
	return ok
}

// decodeScalar fills the step's scalar field from `step: value` or
// `step: [a, b]`.
func (p *fileParser) decodeScalar(spec stepSpec, v ast.Node, act Action) {
	if spec.scalar == "" {
		p.add(p.pos(v), fmt.Sprintf("%s takes a mapping of arguments, not %s", spec.name, describeNode(v)),
			"indented `key: value` lines under "+spec.name+" (see docs/scenarios.md)")
		return
	}
	rv := reflect.ValueOf(act).Elem()
	f, ok := fieldByYAML(rv, spec.scalar)
	if !ok {
		panic("scenarios: vocabulary names a missing scalar field " + spec.scalar)
	}
	if f.Kind() == reflect.Slice {
		if _, isSeq := v.(*ast.SequenceNode); !isSeq {
			elem := reflect.New(f.Type().Elem())
			if p.decode(v, elem.Interface()) {
				f.Set(reflect.Append(f, elem.Elem()))
			}
			return
		}
	} else if _, isSeq := v.(*ast.SequenceNode); isSeq {
		p.add(p.pos(v), fmt.Sprintf("%s takes one %s, not a list", spec.name, spec.scalar), fmt.Sprintf("`%s: value` or a mapping of arguments", spec.name))
		return
	}
	p.decode(v, f.Addr().Interface())
}

// decodeArgs checks every key of the argument mapping (nested ones too) and,
// if all are known, decodes it strictly.
func (p *fileParser) decodeArgs(v ast.Node, act Action, name string) {
	before := len(p.probs)
	p.checkKeys(v, reflect.TypeOf(act).Elem(), name)
	if len(p.probs) > before {
		return
	}
	p.decode(v, act)
}

// checkKeys reports every key of a mapping that the struct type t does not
// have, recursing into nested structs, so that all unknown keys are reported
// at once with what was expected.
func (p *fileParser) checkKeys(v ast.Node, t reflect.Type, ctx string) {
	pairs, ok := mappingPairs(v)
	if !ok {
		return // the decoder reports the type mismatch
	}
	fields := structFields(t)
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, mv := range pairs {
		key := keyText(mv.Key)
		ft, ok := fields[key]
		if !ok {
			p.add(p.pos(mv.Key), fmt.Sprintf("unknown key %q in %s", key, ctx), oneOf(names))
			continue
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != durationType {
			p.checkKeys(unwrap(mv.Value), ft, ctx+"."+key)
		}
	}
}

var durationType = reflect.TypeOf(Duration(0))

// structFields maps yaml names to field types, flattening inline structs.
func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, inline := yamlTag(f)
		if inline {
			for k, v := range structFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name != "" {
			out[name] = f.Type
		}
	}
	return out
}

func yamlTag(f reflect.StructField) (name string, inline bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	return name, opts == "inline"
}

func fieldByYAML(rv reflect.Value, name string) (reflect.Value, bool) {
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		n, inline := yamlTag(t.Field(i))
		if inline {
			if f, ok := fieldByYAML(rv.Field(i), name); ok {
				return f, true
			}
			continue
		}
		if n == name {
			return rv.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// keyPos finds the position of key in a mapping node (or def if absent).
func (p *fileParser) keyPos(m ast.Node, key string, def Pos) Pos {
	pairs, _ := mappingPairs(m)
	for _, mv := range pairs {
		if keyText(mv.Key) == key {
			return p.pos(mv.Key)
		}
	}
	return def
}

func valueOf(m ast.Node, key string) ast.Node {
	pairs, _ := mappingPairs(m)
	for _, mv := range pairs {
		if keyText(mv.Key) == key {
			return unwrap(mv.Value)
		}
	}
	return nil
}

// checkFields applies the struct tags of the step types: req (required, and
// for a duration more than zero), enum (closed set of values), kind (path,
// name, counter), signed (a duration that may be negative), ref (a tab or
// remembered value defined earlier). given says whether a field was written
// (as a key of m, or as the step's scalar value).
func (p *fileParser) checkFields(rv reflect.Value, m ast.Node, ctx string, stepPos Pos, info *stepInfo, given func(key string) bool) {
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		sf, fv := t.Field(i), rv.Field(i)
		name, inline := yamlTag(sf)
		if inline {
			p.checkFields(fv, m, ctx, stepPos, info, given)
			continue
		}
		at := p.keyPos(m, name, stepPos)
		label := fmt.Sprintf("%s `%s`", ctx, name)
		if sf.Tag.Get("req") != "" && fv.IsZero() {
			_, isDuration := fv.Interface().(Duration)
			switch {
			case !given(name):
				p.add(stepPos, fmt.Sprintf("%s needs `%s`", ctx, name), fmt.Sprintf("add `%s: ...` (see docs/scenarios.md)", name))
			case isDuration:
				p.add(at, label+" is zero", "a duration of more than zero, such as 10s")
			default:
				p.add(at, label+" is empty", fmt.Sprintf("a value for `%s` (see docs/scenarios.md)", name))
			}
			continue
		}
		var strs []string
		switch fv.Kind() {
		case reflect.String:
			if fv.String() != "" {
				strs = []string{fv.String()}
			}
		case reflect.Slice:
			if sf.Type.Elem().Kind() == reflect.String {
				strs = fv.Interface().([]string)
			}
		case reflect.Map:
			if sf.Type.Elem().Kind() == reflect.String && sf.Tag.Get("ref") != "" {
				for _, k := range sortedKeys(fv.Interface().(map[string]string)) {
					info.refs = append(info.refs, ref{kind: sf.Tag.Get("ref"), name: fv.MapIndex(reflect.ValueOf(k)).String(), pos: at})
				}
			}
			if counts, ok := fv.Interface().(map[string]Count); ok {
				for _, k := range sortedKeys(counts) {
					kp := p.keyPos(valueOf(m, name), k, at)
					if !counterPattern.MatchString(k) {
						p.add(kp, fmt.Sprintf("counter %q is malformed", k), wantCounter)
					}
					p.checkCount(counts[k], kp)
				}
			}
		case reflect.Pointer:
			if !fv.IsNil() && fv.Elem().Kind() == reflect.Struct {
				sub := valueOf(m, name)
				p.checkFields(fv.Elem(), sub, ctx+"."+name, at, info, func(key string) bool { return !isNull(valueOf(sub, key)) })
				p.checkSubject(fv.Interface(), valueOf(m, name), at)
			}
		case reflect.Int:
			if fv.Int() < 0 {
				p.add(at, label+" is negative", "a number of zero or more")
			}
		}
		if d, ok := fv.Interface().(Duration); ok && d < 0 && sf.Tag.Get("signed") == "" {
			p.add(at, label+" is negative", "a positive duration such as 10s")
		}
		if enum := sf.Tag.Get("enum"); enum != "" {
			allowed := strings.Split(enum, "|")
			for _, s := range strs {
				if !slices.Contains(allowed, s) {
					p.add(at, fmt.Sprintf("%s is %q", label, s), oneOf(allowed))
				}
			}
		}
		switch sf.Tag.Get("kind") {
		case "path":
			for _, s := range strs {
				if !strings.HasPrefix(s, "/") {
					p.add(at, fmt.Sprintf("%s is %q", label, s), "a path starting with /, such as /companies/2")
				}
			}
		case "name":
			for _, s := range strs {
				if !namePattern.MatchString(s) {
					p.add(at, fmt.Sprintf("%s is %q", label, s), "a name of lower-case letters, digits, - and _, starting with a letter")
				}
			}
		case "counter":
			for _, s := range strs {
				if !counterPattern.MatchString(s) {
					p.add(at, fmt.Sprintf("%s is %q", label, s), wantCounter)
				}
			}
		}
		if kind := sf.Tag.Get("ref"); kind != "" && fv.Kind() != reflect.Map {
			for _, s := range strs {
				info.refs = append(info.refs, ref{kind: kind, name: s, pos: at})
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (p *fileParser) checkCount(c Count, at Pos) {
	if c.Exactly == nil && c.AtLeast == nil && c.AtMost == nil {
		p.add(at, "a counter bound is empty", "a number, or a mapping with at_least and/or at_most")
	}
	for _, v := range []*int{c.Exactly, c.AtLeast, c.AtMost} {
		if v != nil && *v < 0 {
			p.add(at, "a counter bound is negative", "zero or more")
		}
	}
	if c.AtLeast != nil && c.AtMost != nil && *c.AtLeast > *c.AtMost {
		p.add(at, fmt.Sprintf("at_least %d is above at_most %d", *c.AtLeast, *c.AtMost), "at_least <= at_most")
	}
	if c.Exactly != nil && (c.AtLeast != nil || c.AtMost != nil) {
		p.add(at, "a counter bound mixes exactly with at_least/at_most", "either exactly or a range")
	}
}

// UnmarshalYAML reads `3` (exactly 3) or `{at_least: 1, at_most: 2}`.
func (c *Count) UnmarshalYAML(node ast.Node) error {
	node = unwrap(node)
	if n, ok := node.(*ast.IntegerNode); ok {
		var v int
		if err := yaml.NodeToValue(n, &v); err != nil {
			return positioned(node, fmt.Sprintf("counter bound %s is out of range", n.GetToken().Value), "a small whole number")
		}
		c.Exactly = &v
		return nil
	}
	if !isMapping(node) {
		return positioned(node, "a counter bound is "+describeNode(node), "a number, or a mapping with at_least and/or at_most")
	}
	type plain Count // no UnmarshalYAML: decode the mapping itself
	var v plain
	if err := yaml.NodeToValue(node, &v, yaml.Strict()); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) {
			return positioned(node, "counter bound: "+ye.GetMessage(), "a number, or a mapping with exactly, at_least and/or at_most")
		}
		return err
	}
	*c = Count(v)
	return nil
}

// MarshalJSON writes a bound as `3` or `{"at_least":1}`.
func (c Count) MarshalJSON() ([]byte, error) {
	if c.Exactly != nil && c.AtLeast == nil && c.AtMost == nil {
		return fmt.Appendf(nil, "%d", *c.Exactly), nil
	}
	type plain Count
	return jsonMarshal(plain(c))
}
