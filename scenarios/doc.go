// Package scenarios holds the scenario model, its strict parser, the label
// registry, and the behaviour catalogue as data files embedded in the binary.
//
// A scenario is data: an id, a title, labels from the one frozen registry in
// labels.go, its sources, the defects it must catch, the capabilities it needs,
// and five phases of steps in the chaos-experiment shape (steady state, inject,
// observe, heal, steady state again). Steps come from a small closed vocabulary
// (vocab.go); expectations are steps too (expect, hold, wait). Every step keeps
// its file position so that a failure or a malformed file points at a line.
// The format is documented in docs/scenarios.md and described for editors by
// docs/scenario.schema.json, which is generated from this package
// (go test ./scenarios -run TestSchemaIsCurrent -update).
//
// Import rule: the model, parser, schema and catalogue import the standard
// library and goccy/go-yaml only, never Ginkgo or harness, so the command line
// can list and validate files without either. The runner that turns a scenario
// into Ginkgo nodes (suites -> scenarios -> harness) is the only part allowed
// to import them. Nothing here imports fixtures, suites, reports or cmd.
package scenarios
