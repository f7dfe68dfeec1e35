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
