package scenarios

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// checkSubject applies the rules of one nested argument struct that tags
// cannot say.
func (p *fileParser) checkSubject(v any, m ast.Node, at Pos) {
	switch s := v.(type) {
	case *UICheck:
		for _, view := range sortedKeys(s.Views) {
			vp := p.keyPos(valueOf(m, "views"), view, at)
			if !slices.Contains(views, view) {
				p.add(vp, fmt.Sprintf("unknown view %q", view), oneOf(views))
			}
			if st := s.Views[view]; !slices.Contains([]string{"loading", "ready", "error"}, st) {
				p.add(vp, fmt.Sprintf("view state %q is unknown", st), "expected one of: loading, ready, error")
			}
		}
		if reflect.ValueOf(*s).IsZero() || (s.Tab != "" && isZeroExcept(*s, "Tab")) {
			p.add(at, "ui checks nothing", "at least one of signed_in, signed_out, error_panel, error_code, views, path, page, ...")
		}
	case *StorageCheck:
		for key, slots := range map[string]map[string]string{"differs_from": s.DiffersFrom, "same_as": s.SameAs} {
			for _, slot := range sortedKeys(slots) {
				if !slices.Contains(tokenSlots, slot) {
					p.add(p.keyPos(valueOf(m, key), slot, at), fmt.Sprintf("unknown token slot %q", slot), oneOf(tokenSlots))
				}
			}
		}
		if s.AccessToken == "" && s.RefreshToken == "" && s.IDToken == "" && len(s.DiffersFrom) == 0 && len(s.SameAs) == 0 {
			p.add(at, "storage checks nothing", "at least one of access_token, refresh_token, id_token, differs_from, same_as")
		}
	case *Mint:
		for _, c := range sortedKeys(s.Shift) {
			if !slices.Contains([]string{"exp", "nbf", "iat"}, c) {
				p.add(p.keyPos(valueOf(m, "shift"), c, at), fmt.Sprintf("cannot shift claim %q", c), "expected one of: exp, nbf, iat")
			}
		}
	case *LogCheck:
		// of: a saved response, or ui (the id on the error panel); checked with references.
	}
}

var tokenSlots = []string{"access_token", "id_token", "refresh_token"}

func isZeroExcept(v any, field string) bool {
	rv := reflect.ValueOf(v)
	for i := 0; i < rv.NumField(); i++ {
		if rv.Type().Field(i).Name != field && !rv.Field(i).IsZero() {
			return false
		}
	}
	return true
}

// checkAction applies the rules of one step type that tags cannot say.
func (p *fileParser) checkAction(act Action, m ast.Node, pos Pos) {
	switch a := act.(type) {
	case *Fault:
		p.checkFault(a, m, pos)
	case *Control:
		p.checkControl(a, m, pos)
	case *CallAPI:
		defaults := []struct {
			set   bool
			token string
		}{{a.Mint != nil, "minted"}, {a.Remembered != "", "remembered"}, {a.Literal != "", "literal"}}
		for _, d := range defaults {
			if d.set && a.Token == "" {
				a.Token = d.token
			}
			if d.set && a.Token != d.token {
				p.add(p.keyPos(m, "token", pos), fmt.Sprintf("call_api gives token %q and the arguments of a %s token", a.Token, d.token),
					"one token choice: token: "+d.token+" with its argument, or drop the argument")
			}
		}
		if a.Token == "" {
			a.Token = "current"
		}
		a.Method = orDefault(a.Method, "GET")
		a.SendAs = orDefault(a.SendAs, "header")
		a.Scheme = orDefault(a.Scheme, "Bearer")
		need := map[string]bool{"minted": a.Mint != nil, "remembered": a.Remembered != "", "literal": a.Literal != ""}
		if has, ok := need[a.Token]; ok && !has {
			arg := map[string]string{"minted": "mint", "remembered": "remembered", "literal": "literal"}[a.Token]
			p.add(pos, fmt.Sprintf("call_api token %s needs `%s`", a.Token, arg), "add `"+arg+": ...`")
		}
	case *SignIn:
		a.From = orDefault(a.From, "/")
	case *OpenTab:
		a.Path = orDefault(a.Path, "/")
	case *AdvanceClock:
		a.Target = orDefault(a.Target, "stack")
	case *CallAS:
		a.Method = orDefault(a.Method, "GET")
	case *Authorize:
		a.CodeChallengeMethod = orDefault(a.CodeChallengeMethod, "S256")
	case *ExchangeCode:
		a.Verifier = orDefault(a.Verifier, "correct")
	case *Heal:
		if slices.Contains(a.Faults, "all") && len(a.Faults) > 1 {
			p.add(pos, "heal names `all` and other faults", "either `heal: all` or a list of fault names")
		}
	case *Remember:
		if a.AccessToken == "" && a.RefreshToken == "" && a.IDToken == "" {
			p.add(pos, "remember saves nothing", "at least one of access_token, refresh_token, id_token, each with a name")
		}
	case *Expect:
		p.checkCheck(a.Check, "expect", pos)
	case *Hold:
		p.checkCheck(a.Check, "hold", pos)
	case *Wait:
		p.checkCheck(a.Check, "wait", pos)
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (p *fileParser) checkCheck(c Check, name string, pos Pos) {
	if reflect.ValueOf(c).IsZero() {
		p.add(pos, name+" checks nothing", "at least one of ui, counter, response, traffic, storage, console_errors, history_lacks, log")
	}
}

func (p *fileParser) checkFault(f *Fault, m ast.Node, pos Pos) {
	kind, ok := faultKinds[f.Kind]
	if !ok {
		p.add(p.keyPos(m, "kind", pos), fmt.Sprintf("unknown fault kind %q", f.Kind), oneOf(FaultKinds(f.Layer)))
		return
	}
	if kind.layer != f.Layer {
		p.add(p.keyPos(m, "kind", pos), fmt.Sprintf("fault kind %s is a %s fault, not %s", f.Kind, kind.layer, f.Layer),
			"layer: "+kind.layer+", or a "+f.Layer+" kind: "+strings.Join(FaultKinds(f.Layer), ", "))
	}
	if f.Link == "" && !kind.linkOptional {
		p.add(pos, "fault needs `link`", "expected one of: spa, as, api, jwks")
	}
	allowed := append([]string{"name", "link", "layer", "kind"}, kind.required...)
	allowed = append(allowed, kind.optional...)
	if kind.layer == "network" {
		allowed = append(allowed, "stream")
	}
	if kind.layer != "browser" {
		allowed = append(allowed, "on_request")
	}

	pairs, _ := mappingPairs(m)
	have := map[string]bool{}
	for _, mv := range pairs {
		key := keyText(mv.Key)
		have[key] = true
		if !slices.Contains(allowed, key) {
			sort.Strings(allowed)
			p.add(p.pos(mv.Key), fmt.Sprintf("fault kind %s takes no `%s`", f.Kind, key), oneOf(allowed))
		}
	}
	for _, r := range kind.required {
		if !have[r] {
			p.add(pos, fmt.Sprintf("fault kind %s needs `%s`", f.Kind, r), "add `"+r+": ...` (see docs/scenarios.md)")
		}
	}
}

func (p *fileParser) checkControl(c *Control, m ast.Node, pos Pos) {
	spec, ok := controlActions[c.Action]
	at := p.keyPos(m, "action", pos)
	if c.Target == "" || len(ControlActions(c.Target)) == 0 {
		// checkFields reported the missing or unknown target, with the
		// targets; the action can only be checked against all of them.
		if !ok {
			p.add(at, fmt.Sprintf("unknown control action %q", c.Action), oneOf(ControlActions("")))
		}
		return
	}
	if !ok || !slices.Contains(spec.targets, c.Target) {
		p.add(at, fmt.Sprintf("unknown control action %q for %s", c.Action, c.Target), oneOf(ControlActions(c.Target)))
		return
	}
	argsNode := valueOf(m, "args")
	names := sortedKeys(spec.args)
	for _, k := range sortedKeys(c.Args) {
		kp := p.keyPos(argsNode, k, at)
		typ, ok := spec.args[k]
		if !ok {
			want := oneOf(names)
			if len(names) == 0 {
				want = "no args"
			}
			p.add(kp, fmt.Sprintf("control %s takes no argument `%s`", c.Action, k), want)
			continue
		}
		v := c.Args[k]
		switch typ {
		case argString:
			s, isStr := v.(string)
			if !isStr {
				p.add(kp, fmt.Sprintf("argument `%s` is %v", k, v), "expected text")
			} else if e := spec.enums[k]; e != nil && !slices.Contains(e, s) {
				p.add(kp, fmt.Sprintf("argument `%s` is %q", k, s), oneOf(e))
			}
		case argBool:
			if _, isBool := v.(bool); !isBool {
				p.add(kp, fmt.Sprintf("argument `%s` is %v", k, v), "expected true or false")
			}
		case argDuration:
			s, isStr := v.(string)
			d, err := time.ParseDuration(s)
			if !isStr || err != nil || d <= 0 {
				p.add(kp, fmt.Sprintf("argument `%s` is %v", k, v), `a positive Go duration such as "60s" or "3m"`)
			}
		}
	}
	for _, r := range spec.required {
		if _, ok := c.Args[r]; !ok {
			p.add(pos, fmt.Sprintf("control %s needs args.%s", c.Action, r), "add `args: {"+r+": ...}`")
		}
	}
	if spec.anyOf && len(c.Args) == 0 {
		p.add(pos, fmt.Sprintf("control %s needs at least one argument", c.Action), oneOf(names))
	}
}

// crossReferences walks the steps in run order and checks that every tab,
// remembered value and fault a step names was made by an earlier step.
// Faults without a name are named f1, f2, ... here.
func (p *fileParser) crossReferences(s *Scenario, info map[string][]stepInfo) {
	tabs := map[string]bool{"main": true}
	memory := map[string]bool{}
	faults := map[string]bool{}
	nfault := 0
	for _, phase := range PhaseNames {
		steps := *s.phase(phase)
		for i := range steps {
			st := &steps[i]
			if i < len(info[phase]) {
				for _, r := range info[phase][i].refs {
					known := map[string]map[string]bool{"tab": tabs, "memory": memory}[r.kind]
					if !known[r.name] {
						what := map[string]string{"tab": "tab", "memory": "saved value"}[r.kind]
						p.add(r.pos, fmt.Sprintf("%s %q is not defined before this step", what, r.name),
							whatDefines(r.kind, sortedKeys(known)))
					}
				}
			}
			switch a := st.Action.(type) {
			case *OpenTab:
				tabs[a.Name] = true
			case *CloseTab:
				delete(tabs, a.Name)
			case *CallAPI:
				def(memory, a.SaveAs)
			case *CallAS:
				def(memory, a.SaveAs)
			case *Authorize:
				def(memory, a.SaveAs)
			case *ExchangeCode:
				def(memory, a.SaveAs)
			case *Remember:
				def(memory, a.AccessToken)
				def(memory, a.RefreshToken)
				def(memory, a.IDToken)
			case *Fault:
				nfault++
				if a.Name == "" {
					a.Name = fmt.Sprintf("f%d", nfault)
				}
				if faults[a.Name] {
					p.add(st.Pos, fmt.Sprintf("fault %q is already active", a.Name), "a new name, or heal it first")
				}
				faults[a.Name] = true
			case *Heal:
				for _, n := range a.Faults {
					if n == "all" {
						clear(faults)
						continue
					}
					if !faults[n] {
						p.add(st.Pos, fmt.Sprintf("heal names fault %q, which is not active", n), whatDefines("fault", sortedKeys(faults)))
					}
					delete(faults, n)
				}
			}
			var logOf string
			switch a := st.Action.(type) {
			case *Expect:
				logOf = logRef(a.Check)
			case *Hold:
				logOf = logRef(a.Check)
			case *Wait:
				logOf = logRef(a.Check)
			}
			if logOf != "" && logOf != "ui" && !memory[logOf] {
				p.add(st.Pos, fmt.Sprintf("log names %q, which is not a saved response", logOf), "`of: ui` or a save_as name from an earlier call")
			}
		}
	}
}

func logRef(c Check) string {
	if c.Log == nil {
		return ""
	}
	return c.Log.Of
}

func def(m map[string]bool, name string) {
	if name != "" {
		m[name] = true
	}
}

func whatDefines(kind string, known []string) string {
	have := "none yet"
	if len(known) > 0 {
		have = strings.Join(known, ", ")
	}
	switch kind {
	case "tab":
		return "a tab opened earlier with open_tab (known: " + have + ")"
	case "memory":
		return "a name saved earlier with save_as or remember (known: " + have + ")"
	}
	return "a fault injected earlier and still active (active: " + have + ")"
}

// impliedRequirements adds to the declared requirements what the steps need.
func impliedRequirements(s *Scenario) []string {
	set := map[string]bool{}
	for _, r := range s.Requires {
		set[r] = true
	}
	counterLink := func(key string) string { link, _, _ := strings.Cut(key, ":"); return link }
	check := func(c Check) {
		if c.UI != nil || c.Storage != nil || c.ConsoleErrors != "" || len(c.HistoryLacks) > 0 {
			set["browser"] = true
		}
		for k := range c.Counter {
			set["http-proxy:"+counterLink(k)] = true
		}
		if c.Traffic != nil {
			set["http-proxy:"+counterLink(c.Traffic.Request)] = true
		}
		if c.Log != nil {
			set["control-plane:"+c.Log.Target] = true
		}
	}
	for _, ph := range s.Phases() {
		for _, st := range ph.Steps {
			switch a := st.Action.(type) {
			case *SignIn, *Open, *Click, *FillLogin, *ReloadPage, *Back, *Forward, *OpenTab,
				*SwitchTab, *CloseTab, *TamperStorage, *Remember:
				set["browser"] = true
			case *CallAPI:
				if a.Mint != nil {
					set["control-plane:as"] = true
				}
				if a.Token == "current" || a.Token == "id_token" || a.Token == "tampered" {
					set["browser"] = true
				}
			case *Fault:
				switch a.Layer {
				case "network":
					set["network-proxy:"+a.Link] = true
				case "http":
					set["http-proxy:"+a.Link] = true
				case "browser":
					set["browser"] = true
				}
				if a.OnRequest != "" {
					set["http-proxy:"+counterLink(a.OnRequest)] = true
				}
			case *Control:
				set["control-plane:"+a.Target] = true
			case *AdvanceClock:
				if a.Target == "" || a.Target == "stack" {
					set["control-plane:as"], set["control-plane:api"] = true, true
				} else {
					set["control-plane:"+a.Target] = true
				}
			case *Expect:
				check(a.Check)
			case *Hold:
				check(a.Check)
			case *Wait:
				check(a.Check)
			}
		}
	}
	return sortedKeys(set)
}

// yamlFieldName turns goccy/go-yaml's "Type.Field" into the field's YAML name.
func yamlFieldName(goName string) string {
	parts := strings.Split(goName, ".")
	last := parts[len(parts)-1]
	if n, ok := goFieldYAML[last]; ok {
		return n
	}
	return strings.ToLower(last)
}

// goFieldYAML maps Go field names of every step type to their YAML names.
var goFieldYAML = func() map[string]string {
	m := map[string]string{}
	var walk func(t reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if name, _ := yamlTag(f); name != "" {
				m[f.Name] = name
			}
			walk(f.Type)
		}
	}
	for _, s := range vocabulary {
		walk(reflect.TypeOf(s.new()))
	}
	return m
}()

// kindName says in words what a Go type expects in YAML.
func kindName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	if t == durationType {
		return `a duration such as "10s"`
	}
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping of key: value"
	case reflect.Pointer:
		return kindName(t.Elem())
	}
	return t.String()
}
