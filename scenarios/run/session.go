package run

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"rehearsal/harness/browser"
	"rehearsal/harness/config"
	"rehearsal/harness/netfault"
	"rehearsal/harness/pages"
	"rehearsal/harness/redact"
	"rehearsal/harness/target"
	"rehearsal/scenarios"
)

// Env is what every session of one process shares: built once, read-only
// afterwards.
type Env struct {
	Target   target.Target
	Browser  *browser.Browser
	UI       *pages.UI
	Timeouts config.Timeouts
	Redactor *redact.Redactor
	// Logf narrates what a session does (the suites pass GinkgoWriter's).
	Logf func(format string, args ...any)
}

// Missing lists the capabilities a scenario needs that the target lacks.
func (e *Env) Missing(sc *scenarios.Scenario) []string {
	var out []string
	for _, c := range sc.Requires {
		if !e.Target.Has(c) {
			out = append(out, c)
		}
	}
	return out
}

// Session is one scenario's run: its browser context and tabs, the faults it
// applied, what it remembered, and the counters' baseline.
type Session struct {
	env   *Env
	sc    *scenarios.Scenario
	bs    *browser.Session
	tabs  map[string]*browser.Tab
	order []string
	cur   string

	mu       sync.Mutex
	issued   []netfault.TokenSeen
	faults   map[string]*appliedFault
	fOrder   []string
	nextF    int
	memory   map[string]*saved
	base     map[string]int // counter values at the last reset_counters
	keys     map[string]string
	user     string
	started  time.Time
	controls []ControlRecord
	faultLog []FaultRecord
	phase    string
}

// ControlRecord is one control-plane action a session took, for evidence.
type ControlRecord struct {
	Time   time.Time      `json:"time"`
	Target string         `json:"target"`
	Action string         `json:"action"`
	Args   map[string]any `json:"args,omitempty"`
	Error  string         `json:"error,omitempty"`
}

type appliedFault struct {
	name, desc, layer, link string
	at                      time.Time
	remove                  func(ctx context.Context) error
}

// FaultRecord is one fault a session applied: its name in the scenario, where
// and what it did, and when it was applied and removed (zero while active).
type FaultRecord struct {
	Name        string
	Layer       string
	Link        string
	Description string
	// Armed is when a fault armed by a request (on_request) was set up; its
	// Applied is when that request came (zero Armed: applied at its step).
	Armed   time.Time
	Applied time.Time
	Removed time.Time
}

// saved is a remembered value: an HTTP answer, a token or a code.
type saved struct {
	resp     *response
	value    string // token or code
	verifier string
	authz    *target.DirectAuthorization
}

type response struct {
	Status   int
	Header   http.Header
	Body     []byte
	Duration time.Duration
	Err      error
}

// NewSession opens a fresh browser context for sc. The caller must Close it.
func NewSession(ctx context.Context, env *Env, sc *scenarios.Scenario) (*Session, error) {
	bs, err := env.Browser.NewSession(ctx)
	if err != nil {
		return nil, fmt.Errorf("open a browser context: %w", err)
	}
	s := &Session{
		env: env, sc: sc, bs: bs,
		tabs:   map[string]*browser.Tab{"main": bs.Tab()},
		order:  []string{"main"},
		cur:    "main",
		faults: map[string]*appliedFault{},
		memory: map[string]*saved{},
		base:   map[string]int{},
		keys:   map[string]string{},
		user:   "alice",
	}
	s.started = time.Now()
	if n := env.Target.Network(); n != nil {
		n.OnToken(s.tokenSeen)
	}
	if as := env.Target.AS(); as != nil {
		cctx, cancel := context.WithTimeout(ctx, env.Timeouts.Control)
		ks, err := as.Keys(cctx)
		cancel()
		if err == nil {
			if k, ok := ks.Active(); ok {
				s.keys["a"] = k.KID
			}
		}
	}
	return s, nil
}

// tokenSeen keeps a token the stack handed out on a link during this
// session: registered with the redactor at once (pattern rules cannot know an
// opaque refresh token), and kept for the evidence's token timeline, which
// must not depend on the browser still holding the token when a spec fails.
func (s *Session) tokenSeen(t netfault.TokenSeen) {
	if s.env.Redactor != nil {
		s.env.Redactor.Add(t.Value)
	}
	s.mu.Lock()
	s.issued = append(s.issued, t)
	s.mu.Unlock()
}

// Issued lists the tokens the links carried during the session, oldest
// first. The values are raw: give them only to an evidence bundle.
func (s *Session) Issued() []netfault.TokenSeen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netfault.TokenSeen(nil), s.issued...)
}

// Started is when the session began (for log windows).
func (s *Session) Started() time.Time { return s.started }

// SetPhase names the phase now running, for evidence.
func (s *Session) SetPhase(p string) { s.phase = p }

// Phase is the phase now running.
func (s *Session) Phase() string { return s.phase }

// Tabs returns the session's tabs by name, in the order opened.
func (s *Session) Tabs() ([]string, map[string]*browser.Tab) {
	return append([]string(nil), s.order...), s.tabs
}

// Controls returns the control-plane actions taken so far.
func (s *Session) Controls() []ControlRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ControlRecord(nil), s.controls...)
}

// Counters returns every link counter relative to the last reset_counters,
// keyed "link:path[grant]".
func (s *Session) Counters() map[string]int {
	out := map[string]int{}
	n := s.env.Target.Network()
	if n == nil {
		return out
	}
	for k, v := range n.Counters() {
		if d := v - s.base[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// counter reads one counter relative to the baseline.
func (s *Session) counter(key string) (int, error) {
	link, path, ok := strings.Cut(key, ":")
	if !ok {
		return 0, fmt.Errorf("counter %q: want link:path, like as:/token[refresh_token]", key)
	}
	l := s.env.Target.Link(link)
	if l == nil {
		return 0, fmt.Errorf("counter %q: the target has no %q link", key, link)
	}
	if path == "*" {
		// Every request on the link: each one counts once under its path;
		// the "path[grant]" duplicates and CORS preflights are left out.
		n := 0
		for k, v := range l.Counters() {
			if !strings.Contains(k, "[") && !strings.HasPrefix(k, "OPTIONS ") {
				n += v - s.base[link+":"+k]
			}
		}
		return n, nil
	}
	return l.Count(path) - s.base[key], nil
}

func (s *Session) resetCounters() {
	n := s.env.Target.Network()
	if n == nil {
		return
	}
	s.base = n.Counters()
}

// tab returns the named tab ("" = current).
func (s *Session) tab(name string) (*browser.Tab, error) {
	if name == "" {
		name = s.cur
	}
	t, ok := s.tabs[name]
	if !ok {
		return nil, fmt.Errorf("no tab named %q (open it with open_tab first; tabs: %s)", name, strings.Join(s.order, ", "))
	}
	return t, nil
}

func (s *Session) logf(format string, args ...any) {
	if s.env.Logf != nil {
		s.env.Logf(format, args...)
	}
}

// addFault registers a fault's removal under a name.
func (s *Session) addFault(name, layer, link, desc string, remove func(ctx context.Context) error) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" {
		s.nextF++
		name = fmt.Sprintf("f%d", s.nextF)
	}
	now := time.Now()
	s.faults[name] = &appliedFault{name: name, desc: desc, layer: layer, link: link, at: now, remove: remove}
	s.fOrder = append(s.fOrder, name)
	s.faultLog = append(s.faultLog, FaultRecord{Name: name, Layer: layer, Link: link, Description: desc, Applied: now})
	s.logf("fault %s applied: %s", name, desc)
	return name
}

// faultFired records that an armed fault took effect (or failed to).
func (s *Session) faultFired(name, desc string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for i := len(s.faultLog) - 1; i >= 0; i-- {
		if r := &s.faultLog[i]; r.Name == name && r.Removed.IsZero() {
			r.Armed, r.Applied = r.Applied, now
			if err != nil {
				r.Description += ": could not be applied: " + err.Error()
			} else {
				r.Description = desc + " (armed on a request)"
			}
			break
		}
	}
	if err != nil {
		s.logf("fault %s: armed fault could not be applied: %v", name, err)
		return
	}
	s.logf("fault %s applied on its request: %s", name, desc)
}

// heal removes named faults ("all" = every active one), newest first.
func (s *Session) heal(ctx context.Context, names []string) error {
	s.mu.Lock()
	var todo []*appliedFault
	all := len(names) == 1 && names[0] == "all"
	for i := len(s.fOrder) - 1; i >= 0; i-- {
		n := s.fOrder[i]
		f, ok := s.faults[n]
		if !ok {
			continue
		}
		if all || contains(names, n) {
			todo = append(todo, f)
		}
	}
	if !all {
		for _, n := range names {
			if _, ok := s.faults[n]; !ok {
				s.mu.Unlock()
				return fmt.Errorf("heal %q: no active fault by that name (active: %s)", n, strings.Join(s.activeNames(), ", "))
			}
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, f := range todo {
		if err := f.remove(ctx); err != nil {
			errs = append(errs, fmt.Errorf("heal %s (%s): %w", f.name, f.desc, err))
			continue
		}
		s.mu.Lock()
		delete(s.faults, f.name)
		for i := len(s.faultLog) - 1; i >= 0; i-- {
			if s.faultLog[i].Name == f.name && s.faultLog[i].Removed.IsZero() {
				s.faultLog[i].Removed = time.Now()
				break
			}
		}
		s.mu.Unlock()
		s.logf("fault %s healed", f.name)
	}
	return errors.Join(errs...)
}

func (s *Session) activeNames() []string {
	var out []string
	for _, n := range s.fOrder {
		if _, ok := s.faults[n]; ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Close removes every fault still applied and closes the browser context.
func (s *Session) Close(ctx context.Context) error {
	if n := s.env.Target.Network(); n != nil {
		n.OnToken(nil)
	}
	errs := []error{s.heal(ctx, []string{"all"})}
	if s.bs != nil {
		errs = append(errs, s.bs.Close())
	}
	return errors.Join(errs...)
}

// Faults returns every fault the session applied, in order, with the times
// each was applied and removed.
func (s *Session) Faults() []FaultRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]FaultRecord(nil), s.faultLog...)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
