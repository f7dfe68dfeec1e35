package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"rehearsal/scenarios"
)

// loadScenarioFiles parses every scenario file named by args (files, or
// directories searched recursively for *.yaml and *.yml) and checks the set as
// a whole (each id+variant once across all files). Problems in the files come
// back as a *scenarios.Error (file:line positions use the paths as given);
// an unreadable path or a directory without scenario files is a plain error.
func loadScenarioFiles(args []string) ([]*scenarios.Scenario, error) {
	files, err := scenarioPaths(args)
	if err != nil {
		return nil, err
	}
	var all []*scenarios.Scenario
	var probs []scenarios.Problem
	for _, f := range files {
		scs, err := scenarios.ParseFile(f)
		if p := scenarios.Problems(err); len(p) > 0 {
			probs = append(probs, p...)
			continue
		}
		if err != nil {
			return nil, err
		}
		all = append(all, scs...)
	}
	probs = append(probs, scenarios.Problems(scenarios.Validate(all))...)
	if len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool {
			a, b := probs[i].Pos, probs[j].Pos
			if a.File != b.File {
				return a.File < b.File
			}
			return a.Line < b.Line
		})
		return nil, &scenarios.Error{Problems: probs}
	}
	return all, nil
}

// scenarioPaths expands args into scenario file paths, in a stable order.
func scenarioPaths(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("%s: no such scenario file or directory; give a .yaml file or a folder of them", a)
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (filepath.Ext(p) == ".yaml" || filepath.Ext(p) == ".yml") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no scenario files (*.yaml, *.yml) in this directory", a)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// errNotInCheckout says what to do when a command needs the repository.
var errNotInCheckout = errors.New("this command must be invoked inside a rehearsal checkout " +
	"(a folder holding go.mod with `module rehearsal`, or below it); cd into the repository and run it again")

// moduleRoot walks up from dir to the folder whose go.mod declares module
// rehearsal: run and selfcheck build and run the suites from there.
func moduleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if isRehearsalModule(filepath.Join(d, "go.mod")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no rehearsal go.mod at or above %s: %w", dir, errNotInCheckout)
		}
	}
}

func isRehearsalModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == "rehearsal"
		}
	}
	return false
}

// absPaths makes every path absolute (children run in another folder).
func absPaths(paths []string) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}
