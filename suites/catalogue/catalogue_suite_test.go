// The catalogue suite rehearses every behaviour of CATALOGUE.md against the
// target (the embedded reference stack unless REHEARSAL_TARGET says
// otherwise). Invariant: the healthy stack passes every ready scenario, and
// a stack with a named defect fails the scenarios that catch it.
package catalogue_test

import (
	"flag"
	"testing"

	"rehearsal/harness/config"
	"rehearsal/scenarios/specs"
)

var raw = config.RegisterFlags(flag.CommandLine)

func TestCatalogue(t *testing.T) { specs.RunSuite(t, "catalogue", raw, specs.Catalogue) }
