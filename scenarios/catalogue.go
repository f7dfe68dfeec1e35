package scenarios

import (
	"embed"
	"io/fs"
	"sort"
)

// catalogueFS holds the behaviour catalogue, one file per CATALOGUE.md area.
//
//go:embed catalogue/*.yaml
var catalogueFS embed.FS

// CatalogueFS returns the embedded catalogue files (under "catalogue/").
func CatalogueFS() fs.FS { return catalogueFS }

// Catalogue parses the embedded catalogue. Positions name files as
// "catalogue/<area>.yaml" (scenarios/catalogue/ in the repository).
func Catalogue() ([]*Scenario, error) {
	return LoadDir(catalogueFS, "catalogue")
}

// Summary is one line of `rehearsal list`.
type Summary struct {
	ID      string   `json:"id"`
	Variant string   `json:"variant,omitempty"`
	Title   string   `json:"title"`
	Labels  []string `json:"labels"`
	Catches []string `json:"catches"`
	Status  string   `json:"status,omitempty"` // "draft" for drafts, empty when ready
}

// List summarises scenarios for `rehearsal list --json`, sorted by id and
// variant. Labels and catches are never null in JSON.
func List(sc []*Scenario) []Summary {
	out := make([]Summary, 0, len(sc))
	for _, s := range sc {
		sum := Summary{ID: s.ID, Variant: s.Variant, Title: s.Title,
			Labels: append([]string{}, s.Labels...), Catches: append([]string{}, s.Catches...)}
		if s.Status == StatusDraft {
			sum.Status = StatusDraft
		}
		out = append(out, sum)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].Variant < out[j].Variant
	})
	return out
}
