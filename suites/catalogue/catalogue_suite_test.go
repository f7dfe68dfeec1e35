// The catalogue suite rehearses every behaviour of CATALOGUE.md against the
// target (the embedded reference stack unless REHEARSAL_TARGET says
// otherwise). Invariant: the healthy stack passes every ready scenario, and
// a stack with a named defect fails the scenarios that catch it.
package catalogue_test

import (
	"flag"
	"testing"

	// The Ginkgo CLI treats a package as a suite only if its tests import
	// Ginkgo; without this it would run them as plain go test and ignore
	// --seed, --focus, --label-filter and -p.
	_ "github.com/onsi/ginkgo/v2"

	"rehearsal/harness/config"
	"rehearsal/scenarios/specs"
)

var raw = config.RegisterFlags(flag.CommandLine)

func TestCatalogue(t *testing.T) { specs.RunSuite(t, "catalogue", raw, specs.Catalogue) }
