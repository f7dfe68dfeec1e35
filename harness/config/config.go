package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultChromium is the Debian package chromium-headless-shell's binary.
const DefaultChromium = "/usr/bin/chromium-headless-shell"

// Config is the validated configuration of one run.
type Config struct {
	// Target is "embedded" (the reference stack) or the path of a target file.
	Target string
	// Chromium is the browser binary to launch (ignored when BrowserURL is set).
	Chromium string
	// BrowserURL is the DevTools WebSocket URL of a remote browser, if any.
	BrowserURL string
	// ToxiproxyURL is the HTTP API of a remote toxiproxy server; empty runs one in-process.
	ToxiproxyURL string
	// Defects are switched on in the embedded stack (names from CATALOGUE.md).
	Defects []string
	// OutDir receives reports and evidence.
	OutDir string
	// ScenarioDirs are incident files, or directories of them, to run (absolute paths).
	ScenarioDirs []string
	// Timeouts are the named bounds of every wait, already scaled.
	Timeouts Timeouts
}

// Raw holds the unvalidated values, as given by flags or the environment.
type Raw struct {
	Target, Chromium, BrowserURL, ToxiproxyURL, Defects, OutDir, Scenarios, TimeoutScale string
	// KnownDefects, when set, are the defect names the target offers; Validate
	// then reports unknown names with the other problems.
	KnownDefects []string
}

// env names, one per setting.
var envNames = map[string]string{
	"target":        "REHEARSAL_TARGET",
	"chromium":      "REHEARSAL_CHROMIUM",
	"browser-url":   "REHEARSAL_BROWSER_URL",
	"toxiproxy-url": "REHEARSAL_TOXIPROXY_URL",
	"defects":       "REHEARSAL_DEFECTS",
	"out":           "REHEARSAL_OUT",
	"scenarios":     "REHEARSAL_SCENARIOS",
	"timeout-scale": "REHEARSAL_TIMEOUT_SCALE",
}

// RegisterFlags registers the rehearsal.* flags on fs with the environment as
// defaults, and returns the Raw they fill. Use it in a suite's init so that
// `ginkgo ./suites/... -- --rehearsal.defects=...` works.
func RegisterFlags(fs *flag.FlagSet) *Raw {
	r := FromEnv()
	fs.StringVar(&r.Target, "rehearsal.target", r.Target, "target: embedded, or a target file ("+envNames["target"]+")")
	fs.StringVar(&r.Chromium, "rehearsal.chromium", r.Chromium, "Chromium binary ("+envNames["chromium"]+")")
	fs.StringVar(&r.BrowserURL, "rehearsal.browser-url", r.BrowserURL, "DevTools WebSocket URL of a remote browser ("+envNames["browser-url"]+")")
	fs.StringVar(&r.ToxiproxyURL, "rehearsal.toxiproxy-url", r.ToxiproxyURL, "HTTP API of a remote toxiproxy server ("+envNames["toxiproxy-url"]+")")
	fs.StringVar(&r.Defects, "rehearsal.defects", r.Defects, "comma-separated defects to switch on in the embedded stack ("+envNames["defects"]+")")
	fs.StringVar(&r.OutDir, "rehearsal.out", r.OutDir, "output directory for reports and evidence ("+envNames["out"]+")")
	fs.StringVar(&r.Scenarios, "rehearsal.scenarios", r.Scenarios, "incident files or directories, separated by "+string(os.PathListSeparator)+" ("+envNames["scenarios"]+")")
	fs.StringVar(&r.TimeoutScale, "rehearsal.timeout-scale", r.TimeoutScale, "multiply every timeout by this factor on slow machines ("+envNames["timeout-scale"]+")")
	return r
}

// FromEnv reads the REHEARSAL_* variables (unset ones get defaults).
func FromEnv() *Raw {
	get := func(k, def string) string {
		if v, ok := os.LookupEnv(envNames[k]); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	return &Raw{
		Target:       get("target", "embedded"),
		Chromium:     get("chromium", DefaultChromium),
		BrowserURL:   get("browser-url", ""),
		ToxiproxyURL: get("toxiproxy-url", ""),
		Defects:      get("defects", ""),
		OutDir:       get("out", defaultOutDir()),
		Scenarios:    get("scenarios", ""),
		TimeoutScale: get("timeout-scale", "1"),
	}
}

// Validate checks every setting and returns all problems at once.
func (r *Raw) Validate() (*Config, error) {
	var errs []error
	c := &Config{Target: r.Target, Chromium: r.Chromium, BrowserURL: r.BrowserURL, ToxiproxyURL: r.ToxiproxyURL}
	if c.Target != "embedded" && c.Target != "" {
		c.Target = userPath(c.Target)
	}
	if c.Chromium != "" {
		c.Chromium = userPath(c.Chromium)
	}

	if c.Target != "embedded" {
		if _, err := os.Stat(c.Target); err != nil {
			errs = append(errs, fmt.Errorf("target %q: not \"embedded\" and not a readable target file (%v); set %s=embedded or give the path of a target file", c.Target, err, envNames["target"]))
		}
	}
	if c.BrowserURL == "" {
		if fi, err := os.Stat(c.Chromium); err != nil || fi.IsDir() {
			errs = append(errs, fmt.Errorf("chromium: no browser at %q; run `make setup` (apt-get install -y chromium-headless-shell) or set %s to a Chromium binary", c.Chromium, envNames["chromium"]))
		}
	} else if !strings.HasPrefix(c.BrowserURL, "ws://") && !strings.HasPrefix(c.BrowserURL, "wss://") {
		errs = append(errs, fmt.Errorf("browser-url %q: want a DevTools WebSocket URL (ws://host:port/devtools/browser/ID)", c.BrowserURL))
	} else if c.Target == "embedded" {
		errs = append(errs, fmt.Errorf("browser-url %q: the embedded stack is reached by host names that the browser maps to ports chosen at start (--host-resolver-rules), which cannot be given to a browser started elsewhere; unset %s to let each process launch its own Chromium", c.BrowserURL, envNames["browser-url"]))
	}
	if c.ToxiproxyURL != "" && !strings.HasPrefix(c.ToxiproxyURL, "http://") && !strings.HasPrefix(c.ToxiproxyURL, "https://") {
		errs = append(errs, fmt.Errorf("toxiproxy-url %q: want the toxiproxy server's HTTP API URL, like http://127.0.0.1:8474", c.ToxiproxyURL))
	}
	var unknown []string
	for _, d := range SplitList(r.Defects) {
		c.Defects = append(c.Defects, d)
		if r.KnownDefects != nil && !slices.Contains(r.KnownDefects, d) {
			unknown = append(unknown, d)
		}
	}
	if len(unknown) > 0 {
		errs = append(errs, fmt.Errorf("defects: unknown %s; the reference stack offers: %s (docs/defects.md); fix %s",
			strings.Join(unknown, ", "), strings.Join(r.KnownDefects, ", "), envNames["defects"]))
	}
	if r.OutDir == "" {
		errs = append(errs, fmt.Errorf("out: empty; give a directory path in %s", envNames["out"]))
	}
	c.OutDir = userPath(r.OutDir)
	if err := writableDir(c.OutDir); err != nil {
		errs = append(errs, fmt.Errorf("out %q: %v; give a directory this user can write in %s", r.OutDir, err, envNames["out"]))
	}
	for _, d := range filepath.SplitList(r.Scenarios) {
		if d == "" {
			continue
		}
		abs := userPath(d)
		if _, err := os.Stat(abs); err != nil {
			errs = append(errs, fmt.Errorf("scenarios %q: no such incident file or directory (%v; relative paths are taken from %s); fix %s", d, err, userDir(), envNames["scenarios"]))
			continue
		}
		c.ScenarioDirs = append(c.ScenarioDirs, abs)
	}
	scale, err := strconv.ParseFloat(r.TimeoutScale, 64)
	// Written so NaN fails too: every comparison with NaN is false.
	if err != nil || !(scale >= 0.1 && scale <= 100) {
		errs = append(errs, fmt.Errorf("timeout-scale %q: want a number from 0.1 to 100, like 1 or 2.5; set %s", r.TimeoutScale, envNames["timeout-scale"]))
		scale = 1
	}
	c.Timeouts = DefaultTimeouts().Scaled(scale)
	if len(errs) > 0 {
		return nil, fmt.Errorf("rehearsal configuration has %d problem(s):\n  - %w", len(errs), joinLines(errs))
	}
	return c, nil
}

// SplitList splits a comma-separated setting such as REHEARSAL_DEFECTS,
// dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// userDir is the directory the person ran the command in. The Ginkgo CLI
// runs each suite's test binary inside the suite's package folder, so the
// working directory is not it; the shell's $PWD, which the binary inherits,
// is (when it names this process's directory tree at all).
func userDir() string {
	if pwd := os.Getenv("PWD"); filepath.IsAbs(pwd) {
		if fi, err := os.Stat(pwd); err == nil && fi.IsDir() {
			return pwd
		}
	}
	if wd, err := os.Getwd(); err == nil {
		return wd
	}
	return "."
}

// userPath resolves a path a person gave (a flag or REHEARSAL_* variable)
// against the directory they ran the command in.
func userPath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(userDir(), p)
}

// writableDir reports whether dir exists as a directory, or can be created,
// without creating it: its nearest existing ancestor must be a directory.
func writableDir(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", d)
			}
			if unix := fi.Mode().Perm(); unix&0o200 == 0 && os.Geteuid() != 0 {
				return fmt.Errorf("%s is not writable", d)
			}
			if strings.HasPrefix(d, "/proc") || strings.HasPrefix(d, "/sys") {
				return fmt.Errorf("%s is a kernel file system", d)
			}
			return nil
		}
		if filepath.Dir(d) == d {
			return err
		}
	}
}

// defaultOutDir is out/ at the root of the module (found from go.mod above the
// working directory), so that every suite package writes to the same place.
func defaultOutDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return "out"
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "out")
		}
		if filepath.Dir(d) == d {
			return "out"
		}
	}
}

func joinLines(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "\n  - "))
}

// Timeouts are the named bounds used by specs and steps. Specs never use
// literal durations; they use these, which are scaled by one factor.
type Timeouts struct {
	// Scale is the factor already applied to every field.
	Scale float64
	// Spec bounds one rehearsal from start to end.
	Spec time.Duration
	// Setup bounds a setup or cleanup node that touches the network.
	Setup time.Duration
	// Stack bounds starting or stopping the embedded target and browser.
	Stack time.Duration
	// Action bounds one browser action (a click, a navigation).
	Action time.Duration
	// UI bounds how long a UI state may take to appear.
	UI time.Duration
	// Hold is how long a "stays so" expectation is held.
	Hold time.Duration
	// Control bounds one control-plane call.
	Control time.Duration
	// Poll is the interval between polls.
	Poll time.Duration
}

// DefaultTimeouts are tuned for a 2-core machine.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Scale:   1,
		Spec:    90 * time.Second,
		Setup:   30 * time.Second,
		Stack:   60 * time.Second,
		Action:  15 * time.Second,
		UI:      15 * time.Second,
		Hold:    2 * time.Second,
		Control: 10 * time.Second,
		Poll:    100 * time.Millisecond,
	}
}

// Scaled multiplies every bound (not the poll interval) by f.
func (t Timeouts) Scaled(f float64) Timeouts {
	s := func(d time.Duration) time.Duration { return time.Duration(float64(d) * f) }
	return Timeouts{
		Scale: t.Scale * f, Spec: s(t.Spec), Setup: s(t.Setup), Stack: s(t.Stack), Action: s(t.Action),
		UI: s(t.UI), Hold: s(t.Hold), Control: s(t.Control), Poll: t.Poll,
	}
}

// Scale multiplies an explicit duration (from a scenario file) by the factor.
func (t Timeouts) ScaleDuration(d time.Duration) time.Duration {
	return time.Duration(float64(d) * t.Scale)
}
