package scenarios

import (
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// catalogueRows are the ids of CATALOGUE.md; each must have a scenario.
var catalogueRows = []string{
	"LGN-01", "LGN-02", "LGN-03", "LGN-04", "LGN-06", "LGN-08", "LGN-09", "LGN-10", "LGN-11", "LGN-12",
	"TOK-01", "TOK-02", "TOK-03", "TOK-04", "TOK-05", "TOK-06", "TOK-08", "TOK-09", "TOK-10", "TOK-11",
	"API-01", "API-02", "API-03", "API-04", "API-05", "API-07", "API-08", "API-09",
	"JWKS-01", "JWKS-02", "JWKS-03", "JWKS-04", "JWKS-05", "JWKS-06",
	"AS-01", "AS-02", "AS-03", "OUT-01", "OUT-02", "NET-01", "NET-02", "TIME-01", "TIME-02",
}

// defectCaughtBy is the "caught by" column of CATALOGUE.md's defect table.
var defectCaughtBy = map[string][]string{
	"api-jwks-no-refetch-on-unknown-kid": {"JWKS-01", "JWKS-02", "AS-01"},
	"api-fetch-error-as-401":             {"JWKS-05", "JWKS-06"},
	"api-jwks-fetch-no-timeout":          {"JWKS-05"},
	"api-cors-missing-on-errors":         {"API-09", "TOK-01", "TOK-02"},
	"api-accepts-alg-none":               {"API-05"},
	"api-no-audience-check":              {"API-03", "TOK-05"},
	"api-exp-not-required":               {"API-02"},
	"api-no-clock-leeway":                {"TIME-01"},
	"as-pkce-not-enforced":               {"LGN-08"},
	"as-refresh-not-rotated":             {"TOK-08"},
	"as-cors-missing-on-errors":          {"TOK-03", "TOK-08"},
	"spa-refresh-per-request":            {"TOK-02", "AS-03"},
	"spa-refresh-lock-per-tab":           {"TOK-06"},
	"spa-no-retry-after-refresh":         {"TOK-01", "TOK-02", "JWKS-03"},
	"spa-loop-on-permanent-401":          {"TOK-05"},
	"spa-logout-on-network-error":        {"TOK-04", "NET-01", "JWKS-05"},
	"spa-callback-left-in-history":       {"LGN-01", "LGN-06"},
	"spa-deep-link-lost":                 {"LGN-01", "TOK-03"},
	"spa-no-cross-tab-signout":           {"OUT-01"},
	"spa-init-hangs-when-as-down":        {"LGN-11"},
}

func TestCatalogueParses(t *testing.T) {
	sc, err := Catalogue()
	if err != nil {
		t.Fatalf("the embedded catalogue does not parse:\n%v", err)
	}
	byID := map[string][]*Scenario{}
	for _, s := range sc {
		byID[s.ID] = append(byID[s.ID], s)
		if s.Labels[0] != s.ID {
			t.Errorf("%s: first label is %q, want the id", s.Key(), s.Labels[0])
		}
		if len(s.Sources) == 0 {
			t.Errorf("%s (%s): no sources", s.Key(), s.Pos)
		}
		if s.Timeout == 0 {
			t.Errorf("%s (%s): no timeout", s.Key(), s.Pos)
		}
		groups := map[string]bool{}
		for _, l := range s.Labels[1:] {
			groups[labels[l]] = true
		}
		for _, g := range []string{"flow", "layer", "tier", "owner"} {
			if !groups[g] {
				t.Errorf("%s (%s): no %s label", s.Key(), s.Pos, g)
			}
		}
	}
	for _, id := range catalogueRows {
		if len(byID[id]) == 0 {
			t.Errorf("catalogue row %s has no scenario", id)
		}
		ready := slices.ContainsFunc(byID[id], func(s *Scenario) bool { return s.Status == StatusReady })
		if !ready && len(byID[id]) > 0 {
			t.Logf("row %s has only draft scenarios", id)
		}
	}
	for id := range byID {
		if !slices.Contains(catalogueRows, id) {
			t.Errorf("scenario id %s is not a CATALOGUE.md row", id)
		}
	}
}

// CATALOGUE.md's "caught by" column is the minimum: every row listed against
// a defect has a ready scenario that catches it. A scenario may catch more
// (docs/defects.md lists them); selfcheck proves every claim either way.
func TestCatalogueCatchesEveryDefect(t *testing.T) {
	sc, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(defectCaughtBy), len(defectNames); got != want {
		t.Fatalf("defect table has %d defects, registry %d", got, want)
	}
	caughtByRow := map[string]map[string]bool{}
	for _, s := range sc {
		for _, d := range s.Catches {
			if _, ok := defectCaughtBy[d]; !ok {
				t.Errorf("%s (%s) claims to catch %s, which the defect table does not know", s.Key(), s.Pos, d)
			}
			if s.Status == StatusReady {
				if caughtByRow[d] == nil {
					caughtByRow[d] = map[string]bool{}
				}
				caughtByRow[d][s.ID] = true
			}
		}
	}
	for d, rows := range defectCaughtBy {
		for _, id := range rows {
			if !caughtByRow[d][id] {
				t.Errorf("defect %s: no ready scenario of %s catches it", d, id)
			}
		}
	}
}

func TestListJSON(t *testing.T) {
	sc, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	list := List(sc)
	if len(list) != len(sc) {
		t.Fatalf("List returned %d summaries for %d scenarios", len(list), len(sc))
	}
	data, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"id", "title", "labels", "catches"} {
		if _, ok := back[0][key]; !ok {
			t.Errorf("list --json entry lacks %q: %s", key, data[:200])
		}
	}
	ids := map[string]bool{}
	for _, s := range list {
		ids[s.ID] = true
	}
	for _, id := range catalogueRows {
		if !ids[id] {
			t.Errorf("List lacks %s", id)
		}
	}
}

// docs/defects.md's "caught by" column is the set of rows whose ready
// scenarios name the defect, and the table lists every defect.
func TestDefectsDocMatchesTheCatalogue(t *testing.T) {
	sc, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]bool{}
	for _, s := range sc {
		for _, d := range s.Catches {
			if s.Status != StatusReady {
				continue
			}
			if want[d] == nil {
				want[d] = map[string]bool{}
			}
			want[d][s.ID] = true
		}
	}
	doc, err := os.ReadFile("../docs/defects.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)` \\|.*\\| ([A-Z0-9, -]*) \\|$")
	seen := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		name := m[1]
		seen[name] = true
		got := map[string]bool{}
		for _, id := range strings.Split(m[2], ",") {
			if id = strings.TrimSpace(id); id != "" {
				got[id] = true
			}
		}
		if !maps.Equal(got, want[name]) {
			t.Errorf("docs/defects.md: %s caught by %v, but the catalogue's ready scenarios catching it are %v", name, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want[name])))
		}
	}
	for _, d := range Defects() {
		if !seen[d] {
			t.Errorf("docs/defects.md has no row for defect %s", d)
		}
	}
}
