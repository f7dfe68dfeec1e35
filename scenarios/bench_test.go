package scenarios

import (
	"io/fs"
	"testing"
)

// BenchmarkParseCatalogue measures strict parsing of every catalogue file.
func BenchmarkParseCatalogue(b *testing.B) {
	fsys := CatalogueFS()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadDir(fsys, "."); err != nil {
			b.Fatal(err)
		}
	}
	_ = fs.ValidPath
}
