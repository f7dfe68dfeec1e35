package scenarios

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

var update = flag.Bool("update", false, "rewrite docs/scenario.schema.json from the parser's types")

const schemaFile = "../docs/scenario.schema.json"

func TestSchemaIsCurrent(t *testing.T) {
	want := JSONSchema()
	if *update {
		if err := os.WriteFile(schemaFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("%v; run `go test ./scenarios -run TestSchemaIsCurrent -update`", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with the parser; run `go test ./scenarios -run TestSchemaIsCurrent -update`", schemaFile)
	}
}

// schemaNames returns every property name the schema declares anywhere, and
// the schema as a map.
func schemaNames(t *testing.T) (map[string]bool, map[string]any) {
	t.Helper()
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatalf("%s is not valid JSON: %v", schemaFile, err)
	}
	if schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema is %v, want draft 2020-12", schema["$schema"])
	}
	names := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if props, ok := x["properties"].(map[string]any); ok {
				for k := range props {
					names[k] = true
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(schema)
	return names, schema
}

func TestSchemaCoversVocabulary(t *testing.T) {
	names, schema := schemaNames(t)
	top := schema["properties"].(map[string]any)
	for _, k := range topKeys {
		if _, ok := top[k]; !ok {
			t.Errorf("schema lacks top-level key %q", k)
		}
	}
	for _, s := range StepNames() {
		if !names[s] {
			t.Errorf("schema lacks step %q", s)
		}
	}
}

// freeForm are mappings whose keys are data (header names, claims, counters,
// views, ...), not format keys.
var freeForm = []string{"args", "counter", "differs_from", "form", "headers", "headers_lack", "json",
	"json_includes", "location_query", "query", "set", "shift", "use", "views"}

// Every key written in a catalogue file is one the schema knows.
func TestSchemaCoversCatalogueKeys(t *testing.T) {
	names, _ := schemaNames(t)
	seen := 0
	err := fs.WalkDir(catalogueFS, "catalogue", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := catalogueFS.ReadFile(name)
		f, err := parser.ParseBytes(data, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, doc := range f.Docs {
			ast.Walk(keyVisitor(func(mv *ast.MappingValueNode) bool {
				key := keyText(mv.Key)
				seen++
				if !names[key] {
					t.Errorf("%s: key %q is not in the schema", posOf(name, mv.Key), key)
				}
				return !slices.Contains(freeForm, key)
			}), doc.Body)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 1000 {
		t.Errorf("walked only %d keys of the catalogue; the walk is broken", seen)
	}
}

type keyVisitor func(*ast.MappingValueNode) bool

func (v keyVisitor) Visit(n ast.Node) ast.Visitor {
	if mv, ok := n.(*ast.MappingValueNode); ok {
		if !v(mv) {
			return nil
		}
		ast.Walk(v, mv.Value)
		return nil
	}
	return v
}

func TestSchemaDurationPattern(t *testing.T) {
	data := string(JSONSchema())
	if !strings.Contains(data, `"$ref": "#/$defs/duration"`) {
		t.Error("schema never refers to the duration definition")
	}
}
