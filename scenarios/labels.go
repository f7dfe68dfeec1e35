package scenarios

import (
	"slices"
	"sort"
)

// LabelGroup is one dimension of the label registry. A label is written
// "group:value" (flow:refresh, link:jwks), which is a Ginkgo label set, so
// --label-filter can select by value ("link:jwks") or by group
// ("fault: containsAny {down, reset}").
type LabelGroup struct {
	Name   string   // flow, fault, layer, link, tier, owner
	Doc    string   // what the dimension says about a scenario
	Values []string // the frozen values, sorted, without the "group:" prefix
}

// labelGroups is the frozen registry. Add a value here (and to
// docs/scenarios.md) before any scenario uses it; nothing else may invent one.
var labelGroups = []LabelGroup{
	{Name: "flow", Doc: "the user-visible flow the scenario exercises",
		Values: []string{"api", "clock", "keys", "refresh", "signin", "signout", "tabs"}},
	{Name: "fault", Doc: "what goes wrong",
		Values: []string{"alg", "claims", "cors", "deny", "down", "expire", "http-status", "latency",
			"malformed", "pkce", "replay", "reset", "restart", "revoke", "rotate", "scope", "skew",
			"slow-body", "tamper", "timeout"}},
	{Name: "layer", Doc: "where the fault is injected",
		Values: []string{"browser", "control", "direct", "http", "network"}},
	{Name: "link", Doc: "which link the fault sits on (browser->spa, browser->as, browser->api, api->jwks)",
		Values: []string{"api", "as", "jwks", "spa"}},
	{Name: "tier", Doc: "how often it runs: smoke on every change, core in CI, extended nightly",
		Values: []string{"core", "extended", "smoke"}},
	{Name: "owner", Doc: "the part whose behaviour the scenario pins",
		Values: []string{"api", "as", "spa"}},
}

// labels is the frozen label registry: every label a scenario may carry
// ("group:value"), mapped to its group. It is unexported so that nothing can
// add to it at run time; read it through Labels and IsLabel.
var labels = func() map[string]string {
	m := map[string]string{}
	for _, g := range labelGroups {
		for _, v := range g.Values {
			m[g.Name+":"+v] = g.Name
		}
	}
	return m
}()

// LabelGroups returns the registry's groups in a fixed order (a copy).
func LabelGroups() []LabelGroup {
	out := make([]LabelGroup, len(labelGroups))
	for i, g := range labelGroups {
		out[i] = LabelGroup{Name: g.Name, Doc: g.Doc, Values: slices.Clone(g.Values)}
	}
	return out
}

// Labels returns every registered label ("group:value"), sorted. Catalogue
// ids (such as "TOK-01") are added to each scenario's labels by the parser and
// are not part of the registry.
func Labels() []string {
	out := make([]string, 0, len(labels))
	for l := range labels {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// IsLabel reports whether name is in the registry.
func IsLabel(name string) bool {
	_, ok := labels[name]
	return ok
}
