package evidence

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	err := readJSON(filepath.Join(dir, FileManifest), &m)
	return m, err
}

// ReadFaults reads dir/faults.json; a bundle without one has no faults.
func ReadFaults(dir string) ([]FaultEvent, error) {
	var v []FaultEvent
	return v, readOptional(filepath.Join(dir, FileFaults), &v)
}

// ReadTokens reads dir/tokens.json; a bundle without one has no timeline.
func ReadTokens(dir string) ([]TokenEvent, error) {
	var v []TokenEvent
	return v, readOptional(filepath.Join(dir, FileTokens), &v)
}

// ReadControl reads dir/control.json; a bundle without one has no actions.
func ReadControl(dir string) ([]ControlAction, error) {
	var v []ControlAction
	return v, readOptional(filepath.Join(dir, FileControl), &v)
}

// ReadCounters reads dir/counters.json as written by the harness (its shape
// belongs to the fault proxy: usually counter name to count); nil if absent.
func ReadCounters(dir string) (any, error) {
	var v any
	return v, readOptional(filepath.Join(dir, FileCounters), &v)
}

// ReadRepro reads dir/repro.txt, trimmed; empty if absent.
func ReadRepro(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, FileRepro))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return strings.TrimSpace(string(b)), err
}

func readOptional(path string, v any) error {
	err := readJSON(path, v)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("evidence: %s: %w", path, err)
	}
	return nil
}
