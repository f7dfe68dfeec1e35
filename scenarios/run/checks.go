package run

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"rehearsal/harness/browser"
	"rehearsal/harness/netfault"
	"rehearsal/harness/pages"
	"rehearsal/scenarios"
)

type stateView = pages.AppState

func evalVoid(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](expr)
}

// waitUI polls the tab's state until cond holds, for at most the UI bound.
func (s *Session) waitUI(ctx context.Context, tab *browser.Tab, what string, cond func(stateView) bool) error {
	deadline := time.Now().Add(s.env.Timeouts.UI)
	var last stateView
	var lastErr error
	for {
		sctx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Action)
		st, err := s.env.UI.State(sctx, tab)
		cancel()
		if err == nil {
			if cond(st) {
				return nil
			}
			last, lastErr = st, nil
		} else {
			lastErr = err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if lastErr != nil {
				return fmt.Errorf("waited %s for %s; could not read the page: %v", s.env.Timeouts.UI, what, lastErr)
			}
			return fmt.Errorf("waited %s for %s; the page showed: %s", s.env.Timeouts.UI, what, describeState(last))
		}
		select {
		case <-ctx.Done():
		case <-time.After(s.env.Timeouts.Poll):
		}
	}
}

// describeState says in one line what a person would see.
func describeState(st stateView) string {
	var parts []string
	switch {
	case st.BrowserError != "":
		parts = append(parts, "Chromium's error page ("+st.BrowserError+")")
	case st.OnASLoginForm:
		parts = append(parts, "the AS sign-in form")
	case st.ASError:
		parts = append(parts, "the AS error page ("+st.ASErrorText+")")
	case !st.Ready:
		parts = append(parts, "an app that is not ready")
	}
	if st.SignedIn {
		parts = append(parts, "signed in as "+st.UserName)
	}
	if st.SignedOut {
		parts = append(parts, "the signed-out view (reason "+st.SignedOutReason+")")
	}
	if st.Loading {
		parts = append(parts, "loading")
	}
	for _, p := range st.ErrorPanels {
		parts = append(parts, fmt.Sprintf("error panel %s (id %q)", p.Code, p.ID))
	}
	var views []string
	for name, v := range st.Views {
		if v.State == "" {
			continue // a view without data (the home view)
		}
		s := name + "=" + v.State
		if v.ErrorCode != "" {
			s += "(" + v.ErrorCode + ")"
		}
		views = append(views, s)
	}
	sort.Strings(views)
	if len(views) > 0 {
		parts = append(parts, "views "+strings.Join(views, " "))
	}
	parts = append(parts, "at "+browser.RedactURL(st.URL))
	return strings.Join(parts, ", ")
}

// Evaluate checks c once: nil when every subject holds, otherwise an error
// saying what was expected and what was seen.
func (s *Session) Evaluate(ctx context.Context, c scenarios.Check) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if c.UI != nil {
		if err := s.checkUI(ctx, c.UI); err != nil {
			add("%v", err)
		}
	}
	keys := make([]string, 0, len(c.Counter))
	for k := range c.Counter {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n, err := s.counter(k)
		if err != nil {
			add("%v", err)
			continue
		}
		if want := c.Counter[k]; !countOK(want, n) {
			add("counter %s = %d, want %s", k, n, describeCount(want))
		}
	}
	if c.Response != nil {
		v, err := s.recall(c.Response.Of)
		if err != nil {
			add("%v", err)
		} else if v.resp == nil {
			add("%q is not a saved answer", c.Response.Of)
		} else if err := matchResponse(v.resp, c.Response.Match); err != nil {
			add("answer %q: %v", c.Response.Of, err)
		}
	}
	if c.Traffic != nil {
		if err := s.checkTraffic(c.Traffic); err != nil {
			add("%v", err)
		}
	}
	if c.Storage != nil {
		if err := s.checkStorage(ctx, c.Storage); err != nil {
			add("%v", err)
		}
	}
	if c.ConsoleErrors == "none" {
		for _, name := range s.order {
			for _, e := range s.tabs[name].Console() {
				if (e.Type == "error" || e.Type == "exception") && !e.Time.Before(s.started) {
					add("tab %s console %s: %s", name, e.Type, truncate(e.Text, 200))
				}
			}
		}
	}
	if len(c.HistoryLacks) > 0 {
		tab, err := s.tab("")
		if err == nil {
			h, herr := tab.History(ctx)
			if herr != nil {
				add("read history: %v", herr)
			}
			for _, u := range h.URLs {
				for _, bad := range c.HistoryLacks {
					if strings.Contains(u, bad) {
						add("history holds %s, which contains %q", browser.RedactURL(u), bad)
					}
				}
			}
		}
	}
	if c.Log != nil {
		if err := s.checkLog(ctx, c.Log); err != nil {
			add("%v", err)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(problems, "; "))
}

func countOK(c scenarios.Count, n int) bool {
	if c.Exactly != nil && n != *c.Exactly {
		return false
	}
	if c.AtLeast != nil && n < *c.AtLeast {
		return false
	}
	if c.AtMost != nil && n > *c.AtMost {
		return false
	}
	return true
}

func describeCount(c scenarios.Count) string {
	var parts []string
	if c.Exactly != nil {
		parts = append(parts, fmt.Sprint(*c.Exactly))
	}
	if c.AtLeast != nil {
		parts = append(parts, fmt.Sprintf("at least %d", *c.AtLeast))
	}
	if c.AtMost != nil {
		parts = append(parts, fmt.Sprintf("at most %d", *c.AtMost))
	}
	return strings.Join(parts, " and ")
}

func (s *Session) checkUI(ctx context.Context, u *scenarios.UICheck) error {
	tab, err := s.tab(u.Tab)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Action)
	defer cancel()
	st, err := s.env.UI.State(sctx, tab)
	if err != nil {
		return fmt.Errorf("read the page: %w", err)
	}
	var bad []string
	want := func(ok bool, format string, args ...any) {
		if !ok {
			bad = append(bad, fmt.Sprintf(format, args...))
		}
	}
	display := func(user string) string {
		for _, tu := range s.env.Target.Users() {
			if tu.Name == user {
				return tu.Display
			}
		}
		return user
	}
	if u.SignedIn != "" {
		want(st.Ready && st.SignedIn && (st.UserSub == u.SignedIn || st.UserName == display(u.SignedIn)), "signed in as %s", u.SignedIn)
	}
	if u.NotSignedInAs != "" {
		want(!(st.SignedIn && (st.UserSub == u.NotSignedInAs || st.UserName == display(u.NotSignedInAs))), "not signed in as %s", u.NotSignedInAs)
	}
	if u.SignedOut != nil {
		want(st.SignedOut == *u.SignedOut, "signed-out view %s", shown(*u.SignedOut))
	}
	if u.SignedOutReason != "" {
		want(st.SignedOut && st.SignedOutReason == u.SignedOutReason, "signed-out reason %s", u.SignedOutReason)
	}
	if u.ErrorPanel != nil {
		want((len(st.ErrorPanels) > 0) == *u.ErrorPanel, "error panel %s", shown(*u.ErrorPanel))
	}
	if u.ErrorCode != "" {
		found := false
		for _, p := range st.ErrorPanels {
			found = found || p.Code == u.ErrorCode
		}
		want(found, "an error panel with code %s", u.ErrorCode)
	}
	if u.ErrorID != "" {
		has := false
		for _, p := range st.ErrorPanels {
			has = has || p.ID != ""
		}
		want(has == (u.ErrorID == "present"), "error id %s", u.ErrorID)
	}
	if u.ErrorMessageContains != "" {
		found := false
		for _, p := range st.ErrorPanels {
			found = found || strings.Contains(p.Message, u.ErrorMessageContains)
		}
		want(found, "an error message containing %q", u.ErrorMessageContains)
	}
	for view, state := range u.Views {
		v, ok := st.Views[view]
		want(ok && v.State == state, "%s %s", view, state)
	}
	if u.Path != "" {
		want(st.Path == u.Path, "path %s", u.Path)
	}
	for _, p := range u.URLLacks {
		want(!urlHasParam(st.URL, p), "URL without %s", p)
	}
	if u.Page != "" {
		page := "app"
		switch {
		case st.BrowserError != "":
			page = "browser_error"
		case st.OnASLoginForm:
			page = "as_login"
		case st.ASError:
			page = "as_error"
		}
		want(page == u.Page, "page %s", u.Page)
	}
	if u.Loading != nil {
		want(st.Loading == *u.Loading, "loading indicator %s", shown(*u.Loading))
	}
	for _, b := range u.Disabled {
		bs := st.Buttons[b]
		want(bs.Present && !bs.Enabled, "%s disabled", b)
	}
	for _, b := range u.Enabled {
		bs := st.Buttons[b]
		want(bs.Visible && bs.Enabled, "%s enabled", b)
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("ui: want %s; the page showed: %s", strings.Join(bad, ", "), describeState(st))
}

func shown(b bool) string {
	if b {
		return "shown"
	}
	return "absent"
}

// urlHasParam reports whether the URL's query or fragment has the parameter.
func urlHasParam(raw, name string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return strings.Contains(raw, name+"=")
	}
	if u.Query().Has(name) {
		return true
	}
	f, _ := url.ParseQuery(u.Fragment)
	return f.Has(name)
}

func matchResponse(r *response, m scenarios.Match) error {
	if r.Err != nil && m.Status != 0 {
		return fmt.Errorf("no answer (%v), want status %d", r.Err, m.Status)
	}
	var bad []string
	if m.Status != 0 && r.Status != m.Status {
		bad = append(bad, fmt.Sprintf("status %d, want %d", r.Status, m.Status))
	}
	bad = append(bad, matchHeaders(r.Header, m)...)
	if len(m.JSON) > 0 || len(m.JSONHas) > 0 || len(m.JSONIncludes) > 0 {
		var body map[string]any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			bad = append(bad, fmt.Sprintf("body is not a JSON object (%s)", truncate(string(r.Body), 120)))
		} else {
			bad = append(bad, matchJSON(body, m)...)
		}
	}
	if len(m.LocationQuery) > 0 || len(m.LocationLacks) > 0 {
		loc, _ := url.Parse(r.Header.Get("Location"))
		q := url.Values{}
		if loc != nil {
			q = loc.Query()
		}
		for k, v := range m.LocationQuery {
			if q.Get(k) != v {
				bad = append(bad, fmt.Sprintf("Location %s=%q, want %q", k, q.Get(k), v))
			}
		}
		for _, k := range m.LocationLacks {
			if q.Has(k) {
				bad = append(bad, "Location carries "+k)
			}
		}
	}
	if m.TookAtMost != 0 && r.Duration > m.TookAtMost.D() {
		bad = append(bad, fmt.Sprintf("took %s, want at most %s", r.Duration.Round(time.Millisecond), m.TookAtMost))
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(bad, ", "))
}

func matchHeaders(h http.Header, m scenarios.Match) []string {
	var bad []string
	for k, v := range m.Headers {
		if got := h.Get(k); !strings.Contains(got, v) {
			bad = append(bad, fmt.Sprintf("header %s = %q, want it to contain %q", k, got, v))
		}
	}
	for k, v := range m.HeadersLack {
		if got := h.Get(k); got != "" && strings.Contains(got, v) {
			bad = append(bad, fmt.Sprintf("header %s = %q, want it without %q", k, got, v))
		}
	}
	for _, k := range m.HeadersPresent {
		if h.Get(k) == "" {
			bad = append(bad, "header "+k+" missing")
		}
	}
	return bad
}

func matchJSON(body map[string]any, m scenarios.Match) []string {
	var bad []string
	for k, want := range m.JSON {
		if got, ok := body[k]; !ok || fmt.Sprint(got) != fmt.Sprint(want) {
			bad = append(bad, fmt.Sprintf("JSON %s = %v, want %v", k, got, want))
		}
	}
	for _, k := range m.JSONHas {
		if _, ok := body[k]; !ok {
			bad = append(bad, "JSON field "+k+" missing")
		}
	}
	for k, v := range m.JSONIncludes {
		arr, _ := body[k].([]any)
		found := false
		for _, x := range arr {
			found = found || fmt.Sprint(x) == v
		}
		if !found {
			bad = append(bad, fmt.Sprintf("JSON %s does not include %q", k, v))
		}
	}
	return bad
}

// checkTraffic looks at the last request on a link matching t.Request.
func (s *Session) checkTraffic(t *scenarios.TrafficCheck) error {
	link, key, _ := strings.Cut(t.Request, ":")
	l := s.env.Target.Link(link)
	if l == nil {
		return fmt.Errorf("traffic %s: the target has no %q link", t.Request, link)
	}
	path, grant, _ := strings.Cut(strings.TrimSuffix(key, "]"), "[")
	var matching []netfault.RequestRecord
	for _, r := range l.Requests() {
		if r.Time.Before(s.started) || r.Path != path || (grant != "" && r.GrantType != grant) || r.Method == http.MethodOptions {
			continue
		}
		matching = append(matching, r)
	}
	if len(matching) == 0 {
		return fmt.Errorf("traffic: no %s request seen yet", t.Request)
	}
	last := matching[len(matching)-1]
	var bad []string
	q, _ := url.ParseQuery(last.Query)
	for k, v := range t.Query {
		if q.Get(k) != v {
			bad = append(bad, fmt.Sprintf("query %s=%q, want %q", k, q.Get(k), v))
		}
	}
	for _, k := range t.QueryPresent {
		if !q.Has(k) {
			bad = append(bad, "query lacks "+k)
		}
	}
	for _, k := range t.QueryFresh {
		for _, earlier := range matching[:len(matching)-1] {
			eq, _ := url.ParseQuery(earlier.Query)
			if eq.Get(k) != "" && eq.Get(k) == q.Get(k) {
				bad = append(bad, k+" was reused from an earlier request")
			}
		}
	}
	if t.Status != 0 && last.Status != t.Status {
		bad = append(bad, fmt.Sprintf("status %d, want %d", last.Status, t.Status))
	}
	h := http.Header{}
	for k, v := range last.ResponseHeaders {
		h.Set(k, v)
	}
	bad = append(bad, matchHeaders(h, t.Match)...)
	if len(t.JSON) > 0 || len(t.JSONHas) > 0 {
		bad = append(bad, matchJSON(last.ResponseJSON, t.Match)...)
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("traffic %s (last of %d): %s", t.Request, len(matching), strings.Join(bad, ", "))
}

func (s *Session) checkStorage(ctx context.Context, c *scenarios.StorageCheck) error {
	tab, err := s.tab(c.Tab)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Action)
	defer cancel()
	u, err := tab.StoredUser(sctx)
	stored := err == nil
	if err != nil && !strings.Contains(err.Error(), "no oidc-client-ts user") {
		return fmt.Errorf("storage: %w", err)
	}
	var bad []string
	slot := func(name, want, have string) {
		if want == "" {
			return
		}
		present := stored && have != ""
		if present != (want == "present") {
			bad = append(bad, fmt.Sprintf("%s %s, want %s", name, map[bool]string{true: "present", false: "absent"}[present], want))
		}
	}
	slot("access token", c.AccessToken, u.AccessToken)
	slot("refresh token", c.RefreshToken, u.RefreshToken)
	slot("ID token", c.IDToken, u.IDToken)
	current := map[string]string{"access_token": u.AccessToken, "refresh_token": u.RefreshToken, "id_token": u.IDToken}
	compare := func(slots map[string]string, wantSame bool) {
		for slotName, memName := range slots {
			v, err := s.recall(memName)
			switch {
			case err != nil:
				bad = append(bad, err.Error())
			case wantSame && current[slotName] != v.value:
				bad = append(bad, fmt.Sprintf("stored %s is no longer the one remembered as %s", slotName, memName))
			case !wantSame && current[slotName] == v.value:
				bad = append(bad, fmt.Sprintf("stored %s is still the one remembered as %s", slotName, memName))
			}
		}
	}
	compare(c.DiffersFrom, false)
	compare(c.SameAs, true)
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("storage: %s", strings.Join(bad, ", "))
}

func (s *Session) checkLog(ctx context.Context, c *scenarios.LogCheck) error {
	id := ""
	if c.Of == "ui" {
		tab, err := s.tab("")
		if err != nil {
			return err
		}
		st, err := s.env.UI.State(ctx, tab)
		if err != nil {
			return err
		}
		for _, p := range st.ErrorPanels {
			if p.ID != "" {
				id = p.ID
			}
		}
	} else if c.Of != "" {
		v, err := s.recall(c.Of)
		if err != nil {
			return err
		}
		if v.resp != nil {
			var body struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(v.resp.Body, &body)
			id = body.ID
		}
	}
	if c.Of != "" && id == "" {
		return fmt.Errorf("log: no error id found in %s", c.Of)
	}
	type logger interface {
		Logs(context.Context, time.Time) ([]logEntry, error)
	}
	var entries []map[string]any
	switch c.Target {
	case "api":
		if api := s.env.Target.API(); api != nil {
			es, err := api.Logs(ctx, s.started)
			if err != nil {
				return err
			}
			b, _ := json.Marshal(es)
			_ = json.Unmarshal(b, &entries)
		}
	case "as":
		if as := s.env.Target.AS(); as != nil {
			es, err := as.Logs(ctx, s.started)
			if err != nil {
				return err
			}
			b, _ := json.Marshal(es)
			_ = json.Unmarshal(b, &entries)
		}
	}
	for _, e := range entries {
		b, _ := json.Marshal(e)
		line := string(b)
		if (id == "" || strings.Contains(line, id)) && strings.Contains(line, c.Contains) {
			return nil
		}
	}
	if id != "" {
		return fmt.Errorf("log: no %s log entry with id %s contains %q (%d entries since the scenario began)", c.Target, id, c.Contains, len(entries))
	}
	return fmt.Errorf("log: no %s log entry contains %q", c.Target, c.Contains)
}

type logEntry = map[string]any

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
