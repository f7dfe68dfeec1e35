package specs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"rehearsal/harness/evidence"
	"rehearsal/harness/netfault"
	"rehearsal/scenarios"
	"rehearsal/scenarios/run"
)

// phaseShots keeps a screenshot of the current tab at the end of each phase,
// in memory; they are written only if the attempt fails.
type phaseShots struct {
	mu    sync.Mutex
	names []string
	pngs  [][]byte
}

func (p *phaseShots) take(ctx context.Context, sess *run.Session, phase string) {
	order, tabs := sess.Tabs()
	if len(order) == 0 {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	png, err := tabs[order[0]].Screenshot(sctx)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.names = append(p.names, phase)
	p.pngs = append(p.pngs, png)
	p.mu.Unlock()
}

// collectEvidence writes the evidence bundle of a failed attempt and returns
// the paths written.
func collectEvidence(ctx context.Context, env *run.Env, sess *run.Session, sc *scenarios.Scenario, dir string, attempt int, shots *phaseShots, repro string) ([]string, error) {
	if dir == "" || env.Redactor == nil {
		return nil, errors.New("no evidence directory or redactor configured")
	}
	if attempt < 1 {
		attempt = 1
	}
	id := sc.ID
	if sc.Variant != "" {
		id += "_" + sc.Variant
	}
	b, err := evidence.New(dir, id, attempt, env.Redactor)
	if err != nil {
		return nil, err
	}
	var errs []error
	keep := func(_ string, err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	// The tokens the stack handed out during the spec, as the links saw them:
	// the timeline holds them even when the SPA has dropped its tokens.
	for _, t := range sess.Issued() {
		keep("", b.AddToken(t.Time, t.Field, t.Link+":"+t.Path+" answer", t.Value))
	}
	order, tabs := sess.Tabs()
	// Register every stored token with the redactor before anything is written.
	for _, name := range order {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		if u, err := tabs[name].StoredUser(sctx); err == nil {
			now := time.Now()
			keep("", b.AddToken(now, "access_token", "tab "+name+" storage", u.AccessToken))
			if u.RefreshToken != "" {
				keep("", b.AddToken(now, "refresh_token", "tab "+name+" storage", u.RefreshToken))
			}
			if u.IDToken != "" {
				keep("", b.AddToken(now, "id_token", "tab "+name+" storage", u.IDToken))
			}
		}
		cancel()
	}
	shots.mu.Lock()
	for i, png := range shots.pngs {
		keep(b.AddScreenshot(shots.names[i], png))
	}
	shots.mu.Unlock()
	for _, name := range order {
		tab := tabs[name]
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if png, err := tab.Screenshot(sctx); err == nil {
			keep(b.AddScreenshot("failure-"+name, png))
		} else {
			errs = append(errs, fmt.Errorf("screenshot of tab %s: %w", name, err))
		}
		if dom, err := tab.DOM(sctx); err == nil {
			keep(b.WriteText(prefixed(name, evidence.FileDOM), dom))
		}
		cancel()
		keep(b.WriteJSON(prefixed(name, evidence.FileConsole), tab.Console()))
		keep(b.WriteJSON(prefixed(name, evidence.FileNetwork), har(tab.Network())))
	}
	keep(b.WriteJSON(evidence.FileCounters, sess.Counters()))
	faults := []evidence.FaultEvent{}
	for _, f := range sess.Faults() {
		fe := evidence.FaultEvent{Layer: f.Layer, Link: f.Link, Name: f.Name, Applied: f.Applied,
			Params: map[string]any{"description": f.Description}}
		if !f.Armed.IsZero() {
			fe.Params["armed_at"] = f.Armed
		}
		if !f.Removed.IsZero() {
			r := f.Removed
			fe.Removed = &r
		}
		faults = append(faults, fe)
	}
	keep(b.WriteJSON(evidence.FileFaults, faults))
	controls := []evidence.ControlAction{}
	for _, c := range sess.Controls() {
		controls = append(controls, evidence.ControlAction{Time: c.Time, Target: c.Target, Action: c.Action, Params: c.Args, Error: c.Error})
	}
	keep(b.WriteJSON(evidence.FileControl, controls))
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if as := env.Target.AS(); as != nil {
		if entries, err := as.Logs(lctx, sess.Started()); err == nil {
			keep(b.WriteText(evidence.FileASLog, jsonLines(entries)))
		}
	}
	if api := env.Target.API(); api != nil {
		if entries, err := api.Logs(lctx, sess.Started()); err == nil {
			keep(b.WriteText(evidence.FileAPILog, jsonLines(entries)))
		}
	}
	if link := env.Target.Network(); link != nil {
		reqs := map[string]any{}
		// The links outlive specs: keep this spec's requests only.
		for _, l := range link.Links() {
			mine := []netfault.RequestRecord{}
			for _, r := range l.Requests() {
				if !r.Time.Before(sess.Started()) {
					mine = append(mine, r)
				}
			}
			reqs[l.Name()] = mine
		}
		keep(b.WriteJSON("link-requests.json", reqs))
	}
	if repro != "" {
		keep(b.WriteRepro(repro))
	}
	return b.Files(), errors.Join(errs...)
}

func prefixed(tab, file string) string {
	if tab == "main" {
		return file
	}
	return tab + "-" + file
}

func jsonLines[T any](entries []T) string {
	var out []byte
	for _, e := range entries {
		b, err := json.Marshal(e)
		if err != nil {
			continue
		}
		out = append(append(out, b...), '\n')
	}
	return string(out)
}

// har wraps the tab's network log in a HAR-like envelope.
func har(entries any) map[string]any {
	return map[string]any{"log": map[string]any{"version": "1.2", "creator": map[string]string{"name": "rehearsal"}, "entries": entries}}
}
