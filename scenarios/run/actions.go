package run

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"rehearsal/harness/browser"
	"rehearsal/harness/control"
	"rehearsal/harness/netfault"
	"rehearsal/harness/target"
	"rehearsal/scenarios"
)

// ErrUnsupported marks a step the target (or this runner) cannot perform; the
// scenario is skipped with the reason rather than failed.
var ErrUnsupported = errors.New("not supported")

// PreconditionError marks a failed `wait` or a setup step that could not
// reach the state the rehearsal needs (as opposed to the system misbehaving).
type PreconditionError struct{ Err error }

func (e *PreconditionError) Error() string { return "precondition not reached: " + e.Err.Error() }
func (e *PreconditionError) Unwrap() error { return e.Err }

// Do performs one action step. Expectations go through Expect/Hold.
func (s *Session) Do(ctx context.Context, st scenarios.Step) error {
	t := s.env.Timeouts
	switch a := st.Action.(type) {
	case *scenarios.SignIn:
		return s.signIn(ctx, a)
	case *scenarios.Open:
		tab, err := s.tab(a.Tab)
		if err != nil {
			return err
		}
		return s.navigate(ctx, tab, s.spaURL(a.Path))
	case *scenarios.Click:
		return s.eachTab(a.Tabs, func(tab *browser.Tab) error {
			actx, cancel := context.WithTimeout(ctx, t.Action)
			defer cancel()
			if err := tab.Run(actx, s.env.UI.ClickRole(a.Role)); err != nil {
				return fmt.Errorf("click %s: %w%s", a.Role, err, s.describeTab(ctx, tab))
			}
			return nil
		})
	case *scenarios.FillLogin:
		tab, err := s.tab("")
		if err != nil {
			return err
		}
		return s.fillLogin(ctx, tab, a.User)
	case *scenarios.ReloadPage:
		return s.eachTab(a.Tabs, func(tab *browser.Tab) error {
			actx, cancel := context.WithTimeout(ctx, t.Action)
			defer cancel()
			return tolerateNavError(tab.Reload(actx))
		})
	case *scenarios.Back:
		tab, err := s.tab(a.Tab)
		if err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, t.Action)
		defer cancel()
		return tolerateNavError(tab.Back(actx))
	case *scenarios.Forward:
		tab, err := s.tab(a.Tab)
		if err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, t.Action)
		defer cancel()
		return tolerateNavError(tab.Forward(actx))
	case *scenarios.OpenTab:
		tab, err := s.bs.NewTab(ctx)
		if err != nil {
			return fmt.Errorf("open tab %s: %w", a.Name, err)
		}
		s.tabs[a.Name] = tab
		s.order = append(s.order, a.Name)
		s.cur = a.Name
		path := a.Path
		if path == "" {
			path = "/"
		}
		return s.navigate(ctx, tab, s.spaURL(path))
	case *scenarios.SwitchTab:
		if _, err := s.tab(a.Name); err != nil {
			return err
		}
		s.cur = a.Name
		return nil
	case *scenarios.CloseTab:
		tab, err := s.tab(a.Name)
		if err != nil {
			return err
		}
		delete(s.tabs, a.Name)
		for i, n := range s.order {
			if n == a.Name {
				s.order = append(s.order[:i], s.order[i+1:]...)
				break
			}
		}
		if s.cur == a.Name {
			s.cur = "main"
		}
		return tab.Close()
	case *scenarios.CallAPI:
		return s.callAPI(ctx, a)
	case *scenarios.CallAS:
		return s.callAS(ctx, a)
	case *scenarios.Authorize:
		return s.authorize(ctx, a)
	case *scenarios.ExchangeCode:
		return s.exchangeCode(ctx, a)
	case *scenarios.Remember:
		return s.remember(ctx, a)
	case *scenarios.Fault:
		return s.fault(ctx, a)
	case *scenarios.Heal:
		hctx, cancel := context.WithTimeout(ctx, t.Control)
		defer cancel()
		return s.heal(hctx, a.Faults)
	case *scenarios.Control:
		return s.control(ctx, a)
	case *scenarios.AdvanceClock:
		return s.advanceClock(ctx, a)
	case *scenarios.TamperStorage:
		tab, err := s.tab(a.Tab)
		if err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, t.Action)
		defer cancel()
		switch a.What {
		case "expire_access_token":
			return tab.ExpireStoredAccessToken(actx)
		case "corrupt_access_token":
			return tab.CorruptStoredAccessToken(actx)
		case "corrupt_refresh_token":
			return tab.CorruptStoredRefreshToken(actx)
		case "remove_refresh_token":
			return tab.RemoveStoredRefreshToken(actx)
		case "clear":
			return tab.Run(actx, evalVoid("localStorage.clear(); sessionStorage.clear();"))
		}
		return fmt.Errorf("tamper_storage %q: %w", a.What, ErrUnsupported)
	case *scenarios.ResetCounters:
		s.resetCounters()
		return nil
	}
	return fmt.Errorf("step %s: %w by this runner", st.Name, ErrUnsupported)
}

func (s *Session) spaURL(path string) string {
	if path == "" {
		path = "/"
	}
	return strings.TrimRight(s.env.Target.URLs().SPA, "/") + path
}

// eachTab runs f in the named tabs at once (none named: the current tab).
func (s *Session) eachTab(names []string, f func(*browser.Tab) error) error {
	if len(names) == 0 {
		names = []string{""}
	}
	var tabs []*browser.Tab
	for _, n := range names {
		t, err := s.tab(n)
		if err != nil {
			return err
		}
		tabs = append(tabs, t)
	}
	errs := make([]error, len(tabs))
	var wg sync.WaitGroup
	for i, t := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(t)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// navigate loads a URL; a failed top-level navigation (the link is down) is
// not an error of the step: expectations look at what the page then shows.
func (s *Session) navigate(ctx context.Context, tab *browser.Tab, u string) error {
	actx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Action)
	defer cancel()
	return tolerateNavError(tab.Navigate(actx, u))
}

func tolerateNavError(err error) error {
	if err != nil && strings.Contains(err.Error(), "net::ERR_") {
		return nil
	}
	return err
}

func (s *Session) describeTab(ctx context.Context, tab *browser.Tab) string {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	st, err := s.env.UI.State(cctx, tab)
	if err != nil {
		return ""
	}
	return "; the page showed: " + describeState(st)
}

func (s *Session) password(user string) (string, error) {
	for _, u := range s.env.Target.Users() {
		if u.Name == user {
			return u.Password, nil
		}
	}
	return "", fmt.Errorf("no test user %q on this target", user)
}

// signIn opens a route, clicks sign-in and fills the AS form (unless the AS
// session signs the user in silently), then waits until signed in.
func (s *Session) signIn(ctx context.Context, a *scenarios.SignIn) error {
	tab, err := s.tab(a.Tab)
	if err != nil {
		return err
	}
	if err := s.navigate(ctx, tab, s.spaURL(a.From)); err != nil {
		return &PreconditionError{err}
	}
	if err := s.waitUI(ctx, tab, "the app is ready with a sign-in button", func(st stateView) bool {
		return st.Ready && st.Buttons["sign-in"].Visible
	}); err != nil {
		return &PreconditionError{err}
	}
	actx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Action)
	err = tab.Run(actx, s.env.UI.ClickSignIn())
	cancel()
	if err != nil {
		return &PreconditionError{fmt.Errorf("click sign-in: %w", err)}
	}
	if err := s.waitUI(ctx, tab, "the AS sign-in form or a signed-in app", func(st stateView) bool {
		return st.OnASLoginForm || (st.Ready && st.SignedIn)
	}); err != nil {
		return &PreconditionError{err}
	}
	st, err := s.env.UI.State(ctx, tab)
	if err != nil {
		return err
	}
	if st.OnASLoginForm {
		if err := s.fillLogin(ctx, tab, a.User); err != nil {
			return err
		}
	}
	s.user = a.User
	return s.waitUI(ctx, tab, "signed in as "+a.User, func(st stateView) bool { return st.Ready && st.SignedIn })
}

func (s *Session) fillLogin(ctx context.Context, tab *browser.Tab, user string) error {
	pass, err := s.password(user)
	if err != nil {
		return err
	}
	if err := s.waitUI(ctx, tab, "the AS sign-in form or a signed-in app", func(st stateView) bool {
		return st.OnASLoginForm || (st.Ready && st.SignedIn)
	}); err != nil {
		return &PreconditionError{err}
	}
	if st, err := s.env.UI.State(ctx, tab); err == nil && !st.OnASLoginForm {
		// The AS session is still alive: the AS signed the user in without
		// its form. Scenarios that need the form check `page: as_login`.
		s.logf("fill_login: no form shown, the AS session signed %s in silently", user)
		s.user = user
		return nil
	}
	actx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Action)
	defer cancel()
	if err := tolerateNavError(tab.Run(actx, s.env.UI.SignInAs(user, pass))); err != nil {
		return fmt.Errorf("fill the AS sign-in form as %s: %w", user, err)
	}
	s.user = user
	return nil
}

// ---- direct calls -----------------------------------------------------------

func (s *Session) save(name string, v *saved) {
	if name == "" {
		return
	}
	s.mu.Lock()
	s.memory[name] = v
	s.mu.Unlock()
}

func (s *Session) recall(name string) (*saved, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.memory[name]
	if !ok {
		return nil, fmt.Errorf("nothing saved as %q (save it with save_as or remember first)", name)
	}
	return v, nil
}

func (s *Session) do(req *http.Request, follow bool) *response {
	hc := *s.env.Target.HTTPClient()
	if !follow {
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	start := time.Now()
	resp, err := hc.Do(req)
	out := &response{Duration: time.Since(start), Err: err}
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	out.Status, out.Header, out.Body, out.Duration = resp.StatusCode, resp.Header, body, time.Since(start)
	if err != nil {
		out.Err = err
	}
	return out
}

func (s *Session) callAPI(ctx context.Context, a *scenarios.CallAPI) error {
	token, err := s.tokenFor(ctx, a)
	if err != nil {
		return err
	}
	if token != "" && s.env.Redactor != nil {
		s.env.Redactor.Add(token)
	}
	method := a.Method
	if method == "" {
		method = http.MethodGet
	}
	u := strings.TrimRight(s.env.Target.URLs().API, "/") + a.Path
	sendAs := a.SendAs
	if sendAs == "" {
		sendAs = "header"
	}
	if token != "" && (sendAs == "query" || sendAs == "both") {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "access_token=" + url.QueryEscape(token)
	}
	cctx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Action)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, method, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Origin", s.env.Target.URLs().SPA)
	scheme := a.Scheme
	if scheme == "" {
		scheme = "Bearer"
	}
	if token != "" && (sendAs == "header" || sendAs == "both") {
		req.Header.Set("Authorization", scheme+" "+token)
	}
	for k, v := range a.Headers {
		req.Header.Set(k, v)
	}
	r := s.do(req, false)
	s.logf("call_api %s %s -> %d (%s)", method, a.Path, r.Status, r.Duration.Round(time.Millisecond))
	s.save(a.SaveAs, &saved{resp: r})
	return nil
}

// tokenFor picks the token a call_api step sends.
func (s *Session) tokenFor(ctx context.Context, a *scenarios.CallAPI) (string, error) {
	token := a.Token
	if token == "" && a.Mint != nil {
		token = "minted"
	}
	switch token {
	case "none":
		return "", nil
	case "literal":
		return a.Literal, nil
	case "remembered":
		v, err := s.recall(a.Remembered)
		if err != nil {
			return "", err
		}
		return v.value, nil
	case "minted":
		return s.mint(ctx, a.Mint)
	case "id_token", "current", "tampered", "":
		tab, err := s.tab("")
		if err != nil {
			return "", err
		}
		tctx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Action)
		defer cancel()
		u, err := tab.StoredUser(tctx)
		if err != nil {
			return "", &PreconditionError{err}
		}
		switch token {
		case "id_token":
			return u.IDToken, nil
		case "tampered":
			return tamperSignature(u.AccessToken), nil
		}
		return u.AccessToken, nil
	}
	return "", fmt.Errorf("call_api token %q: %w", token, ErrUnsupported)
}

// tamperSignature flips the first character of a JWT's signature.
func tamperSignature(tok string) string {
	i := strings.LastIndex(tok, ".")
	if i < 0 || i+1 >= len(tok) {
		return tok + "x"
	}
	c := tok[i+1]
	r := byte('A')
	if c == 'A' {
		r = 'B'
	}
	return tok[:i+1] + string(r) + tok[i+2:]
}

// mint asks the AS's control plane for a token shaped as m says.
func (s *Session) mint(ctx context.Context, m *scenarios.Mint) (string, error) {
	as := s.env.Target.AS()
	if as == nil {
		return "", fmt.Errorf("minted tokens need the AS control plane: %w", ErrUnsupported)
	}
	if m == nil {
		m = &scenarios.Mint{}
	}
	cctx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Control)
	defer cancel()
	req := control.MintRequest{User: s.user, Claims: map[string]any{}, Header: map[string]any{}}
	switch m.Key {
	case "", "as":
	case "foreign-with-as-kid":
		req.Key = "foreign"
	case "foreign":
		req.Key = "foreign"
		req.Header["kid"] = "foreign-key"
	case "none":
		req.Alg = "none"
	case "hmac-with-as-public-key":
		req.Alg = "HS256-with-public-key"
	}
	switch m.Alg {
	case "none":
		req.Alg = "none"
	case "HS256":
		req.Alg = "HS256-with-public-key"
	}
	for k, v := range m.Set {
		if k == "typ" {
			req.Header["typ"] = v
			continue
		}
		req.Claims[k] = v
	}
	for _, k := range m.Omit {
		req.Claims[k] = nil
	}
	if len(m.Shift) > 0 {
		now, err := as.Clock(cctx)
		if err != nil {
			return "", err
		}
		lt, err := as.Lifetimes(cctx)
		if err != nil {
			return "", err
		}
		for claim, d := range m.Shift {
			base := now.Now
			if claim == "exp" {
				base = base.Add(lt.AccessToken)
			}
			req.Claims[claim] = base.Add(d.D()).Unix()
		}
	}
	tok, err := as.Mint(cctx, req)
	if err != nil {
		return "", err
	}
	switch m.Alg {
	case "PS256", "ES256", "ES512", "EdDSA":
		// The AS signs RS256 only: keep its header and claims, sign them
		// again with a fresh key of the requested algorithm.
		if tok, err = resignWith(tok, m.Alg); err != nil {
			return "", err
		}
	}
	if m.TamperPayload {
		tok = tamperPayload(tok)
	}
	return tok, nil
}

// resignWith signs a JWT's header and claims again with a fresh key of alg
// (header alg changed, kid and typ kept), as a forger or a misconfigured
// issuer would.
func resignWith(tok, alg string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("resign a minted token: it has %d parts, want 3", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", fmt.Errorf("resign a minted token: header: %w", err)
	}
	var header map[string]any
	if err := json.Unmarshal(raw, &header); err != nil {
		return "", fmt.Errorf("resign a minted token: header: %w", err)
	}
	header["alg"] = alg
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + parts[1]
	var sig []byte
	switch alg {
	case "PS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return "", err
		}
		h := sha256.Sum256([]byte(input))
		sig, err = rsa.SignPSS(rand.Reader, k, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		if err != nil {
			return "", err
		}
	case "ES256", "ES512":
		curve, size, digest := elliptic.P256(), 32, sha256.Sum256([]byte(input))
		d := digest[:]
		if alg == "ES512" {
			h := sha512.Sum512([]byte(input))
			curve, size, d = elliptic.P521(), 66, h[:]
		}
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			return "", err
		}
		r, s, err := ecdsa.Sign(rand.Reader, k, d)
		if err != nil {
			return "", err
		}
		sig = make([]byte, 2*size)
		r.FillBytes(sig[:size])
		s.FillBytes(sig[size:])
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return "", err
		}
		sig = ed25519.Sign(k, []byte(input))
	default:
		return "", fmt.Errorf("resign a minted token with %s: %w", alg, ErrUnsupported)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// tamperPayload edits a claim of a JWT's payload and keeps the signature.
func tamperPayload(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return tok
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return tok
	}
	var claims map[string]any
	if json.Unmarshal(raw, &claims) != nil {
		return tok
	}
	claims["scope"] = "openid api:read api:admin"
	b, _ := json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func (s *Session) callAS(ctx context.Context, a *scenarios.CallAS) error {
	method := a.Method
	if method == "" {
		method = http.MethodGet
		if len(a.Form) > 0 || len(a.Use) > 0 {
			method = http.MethodPost
		}
	}
	u, err := url.Parse(strings.TrimRight(s.env.Target.URLs().Issuer, "/") + a.Path)
	if err != nil {
		return err
	}
	q := u.Query()
	for k, v := range a.Query {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	form := url.Values{}
	for k, v := range a.Form {
		form.Set(k, v)
	}
	for field, name := range a.Use {
		v, err := s.recall(name)
		if err != nil {
			return err
		}
		form.Set(field, v.value)
	}
	cctx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Action)
	defer cancel()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(cctx, method, u.String(), body)
	if err != nil {
		return err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Origin", s.env.Target.URLs().SPA)
	for k, v := range a.Headers {
		req.Header.Set(k, v)
	}
	r := s.do(req, a.FollowRedirects)
	s.logf("call_as %s %s -> %d", method, a.Path, r.Status)
	s.rememberTokensIn(r)
	s.save(a.SaveAs, &saved{resp: r})
	return nil
}

// rememberTokensIn registers tokens in an AS answer with the redactor.
func (s *Session) rememberTokensIn(r *response) {
	if s.env.Redactor == nil || len(r.Body) == 0 {
		return
	}
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return
	}
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		if v, ok := m[k].(string); ok {
			s.env.Redactor.Add(v)
		}
	}
}

func (s *Session) authorize(ctx context.Context, a *scenarios.Authorize) error {
	da, ok := s.env.Target.(target.DirectAuthorizer)
	if !ok {
		return fmt.Errorf("authorize without the browser: %w by target %s", ErrUnsupported, s.env.Target.Name())
	}
	cctx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Action)
	defer cancel()
	res, err := da.AuthorizeDirect(cctx, a.User, a.CodeChallengeMethod)
	if err != nil {
		return err
	}
	if s.env.Redactor != nil && res.Code != "" {
		s.env.Redactor.Add(res.Code)
		s.env.Redactor.Add(res.Verifier)
	}
	s.save(a.SaveAs, &saved{value: res.Code, verifier: res.Verifier, authz: &res, resp: s.authorizeAnswer(res)})
	return nil
}

// authorizeAnswer is the AS's last answer to a direct authorization as a
// response expectations can read: a redirect to the SPA's callback carrying
// the code or the error (location_query, location_lacks), or the status of
// the AS's own error page.
func (s *Session) authorizeAnswer(res target.DirectAuthorization) *response {
	if res.Status != 0 {
		return &response{Status: res.Status, Header: http.Header{}}
	}
	q := url.Values{}
	for k, v := range map[string]string{"code": res.Code, "state": res.State, "error": res.Error, "error_description": res.ErrorDescription} {
		if v != "" {
			q.Set(k, v)
		}
	}
	loc := s.env.Target.URLs().SPA + "/callback?" + q.Encode()
	return &response{Status: http.StatusFound, Header: http.Header{"Location": {loc}}}
}

func (s *Session) exchangeCode(ctx context.Context, a *scenarios.ExchangeCode) error {
	v, err := s.recall(a.Code)
	if err != nil {
		return err
	}
	if v.value == "" {
		return &PreconditionError{fmt.Errorf("exchange_code: %q holds no code (the authorization answered %q)", a.Code, v.authz.Error)}
	}
	form := url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {v.value},
		"client_id":    {"rehearsal-spa"},
		"redirect_uri": {s.env.Target.URLs().SPA + "/callback"},
	}
	switch a.Verifier {
	case "", "correct":
		form.Set("code_verifier", v.verifier)
	case "wrong":
		form.Set("code_verifier", strings.Repeat("w", 43))
	case "none":
	}
	cctx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Action)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, strings.TrimRight(s.env.Target.URLs().Issuer, "/")+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.env.Target.URLs().SPA)
	r := s.do(req, false)
	s.rememberTokensIn(r)
	s.save(a.SaveAs, &saved{resp: r})
	return nil
}

func (s *Session) remember(ctx context.Context, a *scenarios.Remember) error {
	tab, err := s.tab(a.Tab)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Action)
	defer cancel()
	u, err := tab.StoredUser(cctx)
	if err != nil {
		return &PreconditionError{err}
	}
	for name, v := range map[string]string{a.AccessToken: u.AccessToken, a.RefreshToken: u.RefreshToken, a.IDToken: u.IDToken} {
		if name == "" {
			continue
		}
		if s.env.Redactor != nil {
			s.env.Redactor.Add(v)
		}
		s.save(name, &saved{value: v})
	}
	return nil
}

// ---- faults -----------------------------------------------------------------

func (s *Session) fault(ctx context.Context, f *scenarios.Fault) error {
	if f.OnRequest != "" {
		return s.armFault(f)
	}
	cctx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Control)
	defer cancel()
	desc, remove, err := s.applyFault(cctx, f)
	if err != nil {
		return err
	}
	s.addFault(f.Name, f.Layer, f.Link, desc, remove)
	return nil
}

// armFault registers f to be applied when the HTTP proxy of the link named in
// f.OnRequest first sees a matching request. Healing it disarms it, or
// removes it once it has been applied; a failure to apply it is reported then.
func (s *Session) armFault(f *scenarios.Fault) error {
	linkName, key, _ := strings.Cut(f.OnRequest, ":")
	l := s.env.Target.Link(linkName)
	if l == nil {
		return fmt.Errorf("fault armed on %s: %w by target %s (no HTTP proxy on link %q)", f.OnRequest, ErrUnsupported, s.env.Target.Name(), linkName)
	}
	path, grant, _ := strings.Cut(strings.TrimSuffix(key, "]"), "[")
	m := netfault.Match{GrantType: grant}
	if path != "*" {
		m.Path = path
	}
	var (
		mu       sync.Mutex
		remove   func(context.Context) error
		applyErr error
	)
	// The parser names every fault (f1, f2, ...), so the name is known here.
	disarm, err := l.OnRequest(m, func() {
		// The request waits for this; the control bound keeps it short.
		cctx, cancel := context.WithTimeout(context.Background(), s.env.Timeouts.Control)
		defer cancel()
		desc, rm, err := s.applyFault(cctx, f)
		mu.Lock()
		remove, applyErr = rm, err
		mu.Unlock()
		s.faultFired(f.Name, desc, err)
	})
	if err != nil {
		return fmt.Errorf("fault armed on %s: %w", f.OnRequest, err)
	}
	s.addFault(f.Name, f.Layer, f.Link, fmt.Sprintf("%s: %s fault armed on %s", f.Link, f.Kind, f.OnRequest), func(ctx context.Context) error {
		disarm() // waits for a firing in progress, so remove is set
		mu.Lock()
		defer mu.Unlock()
		if applyErr != nil {
			return fmt.Errorf("the fault armed on %s could not be applied: %w", f.OnRequest, applyErr)
		}
		if remove != nil {
			return remove(ctx)
		}
		return nil
	})
	return nil
}

// applyFault puts f in force and returns what it does and how to remove it.
func (s *Session) applyFault(cctx context.Context, f *scenarios.Fault) (string, func(context.Context) error, error) {
	switch f.Layer {
	case "network":
		l := s.env.Target.Link(f.Link)
		if l == nil {
			return "", nil, fmt.Errorf("fault on link %q: %w by target %s", f.Link, ErrUnsupported, s.env.Target.Name())
		}
		var (
			ap  *netfault.Applied
			err error
		)
		stream := f.Stream
		if stream == "" {
			stream = netfault.Downstream
		}
		ms := func(d scenarios.Duration) int { return int(d.D() / time.Millisecond) }
		switch f.Kind {
		case "down":
			ap, err = l.Disable(cctx)
		case "latency":
			ap, err = l.AddToxic(cctx, netfault.Toxic{Type: "latency", Stream: stream, Attributes: map[string]any{"latency": ms(f.Latency), "jitter": ms(f.Jitter)}})
		case "bandwidth":
			ap, err = l.AddToxic(cctx, netfault.Toxic{Type: "bandwidth", Stream: stream, Attributes: map[string]any{"rate": f.RateKBps}})
		case "slow_close":
			ap, err = l.AddToxic(cctx, netfault.Toxic{Type: "slow_close", Stream: stream, Attributes: map[string]any{"delay": ms(f.Delay)}})
		case "timeout":
			if f.Stream == "" {
				stream = netfault.Upstream // a true black hole: the server never sees the request
			}
			ap, err = l.AddToxic(cctx, netfault.Toxic{Type: "timeout", Stream: stream, Attributes: map[string]any{"timeout": ms(f.Timeout)}})
		case "reset_peer":
			ap, err = l.AddToxic(cctx, netfault.Toxic{Type: "reset_peer", Stream: stream, Attributes: map[string]any{"timeout": ms(f.Timeout)}})
		case "slicer":
			ap, err = l.AddToxic(cctx, netfault.Toxic{Type: "slicer", Stream: stream, Attributes: map[string]any{
				"average_size": f.AverageSize, "size_variation": f.SizeVariation, "delay": int(f.Delay.D() / time.Microsecond)}})
		case "limit_data":
			ap, err = l.AddToxic(cctx, netfault.Toxic{Type: "limit_data", Stream: stream, Attributes: map[string]any{"bytes": f.Bytes}})
		default:
			return "", nil, fmt.Errorf("network fault kind %q: %w", f.Kind, ErrUnsupported)
		}
		if err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("%s: %s", f.Link, ap.Description), ap.Remove, nil
	case "http":
		l := s.env.Target.Link(f.Link)
		if l == nil {
			return "", nil, fmt.Errorf("http fault on link %q: %w by target %s", f.Link, ErrUnsupported, s.env.Target.Name())
		}
		hf := netfault.HTTPFault{Name: f.Name, Match: httpMatch(f), Times: f.Times, MinStatus: f.MinStatus}
		switch f.Kind {
		case "respond":
			ct := f.ContentType
			if ct == "" {
				ct = "application/json"
			}
			h := map[string]string{"Content-Type": ct}
			for k, v := range f.Headers {
				h[k] = v
			}
			hf.Respond = &netfault.Response{Status: f.Status, Body: f.Body, Headers: h, CORS: true}
		case "delay":
			hf.Delay = f.By.D()
		case "drop_response":
			hf.DropResponse = true
		case "strip_headers":
			hf.StripHeaderPrefixes = f.HeaderNames
		case "set_headers":
			hf.SetHeaders = f.Headers
		case "add_request_headers":
			hf.AddRequestHeaders = f.Headers
		case "strip_request_headers":
			hf.StripRequestHeaders = f.HeaderNames
		case "corrupt_body":
			if f.Truncate > 0 {
				hf.TruncateBody = f.Truncate
			} else {
				hf.CorruptBody = true
			}
		default:
			return "", nil, fmt.Errorf("http fault kind %q: %w", f.Kind, ErrUnsupported)
		}
		ap, err := l.AddHTTPFault(hf)
		if err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("%s: %s", f.Link, ap.Description), ap.Remove, nil
	case "browser":
		tab, err := s.tab("")
		if err != nil {
			return "", nil, err
		}
		var heal browser.Heal
		switch f.Kind {
		case "offline":
			heal, err = tab.SetOffline(cctx, true)
		case "block_urls":
			heal, err = tab.BlockURLs(cctx, s.browserPattern(f))
		case "clock_offset":
			heal, err = tab.ShiftClock(cctx, f.By.D())
		case "block_third_party_cookies":
			heal, err = tab.BlockThirdPartyCookies(cctx)
		case "rewrite_query", "rewrite_form":
			rw := browser.Rewrite{URLPattern: strings.TrimSuffix(s.browserPattern(f), "*") + "*", Path: f.Match}
			if strings.Contains(f.Match, "://") {
				rw.Path = ""
			}
			if f.Kind == "rewrite_query" {
				rw.Query = f.Set
			} else {
				rw.Form = f.Set
			}
			heal, err = tab.RewriteRequests(cctx, rw)
		default:
			return "", nil, fmt.Errorf("browser fault kind %q: %w", f.Kind, ErrUnsupported)
		}
		if err != nil {
			return "", nil, err
		}
		return "browser: " + f.Kind + " " + f.Match, func(ctx context.Context) error { return heal(ctx) }, nil
	}
	return "", nil, fmt.Errorf("fault layer %q: %w", f.Layer, ErrUnsupported)
}

func httpMatch(f *scenarios.Fault) netfault.Match {
	m := netfault.Match{GrantType: f.Grant}
	switch {
	case f.Match == "" || f.Match == "*":
	case strings.HasSuffix(f.Match, "*"):
		m.PathPrefix = strings.TrimSuffix(f.Match, "*")
	default:
		m.Path = f.Match
	}
	return m
}

// browserPattern makes a URLPattern for the link's host from a path match.
func (s *Session) browserPattern(f *scenarios.Fault) string {
	base := ""
	u := s.env.Target.URLs()
	switch f.Link {
	case "as":
		base = u.Issuer
	case "api":
		base = u.API
	case "spa":
		base = u.SPA
	}
	m := f.Match
	if m == "" {
		m = "/*"
	}
	if strings.Contains(m, "://") || base == "" {
		return m
	}
	return strings.TrimRight(base, "/") + m
}

// ---- control plane ----------------------------------------------------------

func (s *Session) recordControl(targetName, action string, args map[string]any, err error) {
	rec := ControlRecord{Time: time.Now(), Target: targetName, Action: action, Args: args}
	if err != nil {
		rec.Error = err.Error()
	}
	s.mu.Lock()
	s.controls = append(s.controls, rec)
	s.mu.Unlock()
}

func (s *Session) advanceClock(ctx context.Context, a *scenarios.AdvanceClock) error {
	which := a.Target
	if which == "" {
		which = "stack"
	}
	cctx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Control)
	defer cancel()
	var errs []error
	if which == "stack" || which == "as" {
		if as := s.env.Target.AS(); as != nil {
			_, err := as.AdvanceClock(cctx, a.By.D())
			errs = append(errs, err)
		} else {
			errs = append(errs, fmt.Errorf("advance the AS clock: %w (no AS control plane)", ErrUnsupported))
		}
	}
	if which == "stack" || which == "api" {
		if api := s.env.Target.API(); api != nil {
			_, err := api.AdvanceClock(cctx, a.By.D())
			errs = append(errs, err)
		} else {
			errs = append(errs, fmt.Errorf("advance the API clock: %w (no API control plane)", ErrUnsupported))
		}
	}
	err := errors.Join(errs...)
	s.recordControl(which, "advance_clock", map[string]any{"by": a.By.String()}, err)
	return err
}

func (s *Session) control(ctx context.Context, c *scenarios.Control) error {
	cctx, cancel := context.WithTimeout(ctx, s.env.Timeouts.Control)
	defer cancel()
	err := s.controlCall(cctx, c)
	s.recordControl(c.Target, c.Action, c.Args, err)
	if err != nil {
		return fmt.Errorf("control %s %s: %w", c.Target, c.Action, err)
	}
	return nil
}

func (s *Session) controlCall(ctx context.Context, c *scenarios.Control) error {
	str := func(k string) string { v, _ := c.Args[k].(string); return v }
	keyName := func() string { return strings.ToLower(str("key")) }
	dur := func(k string) (time.Duration, error) {
		switch v := c.Args[k].(type) {
		case nil:
			return 0, nil
		case string:
			return time.ParseDuration(v)
		case scenarios.Duration:
			return v.D(), nil
		case time.Duration:
			return v, nil
		}
		return 0, fmt.Errorf("argument %s: want a duration, got %v", k, c.Args[k])
	}
	if c.Target == "spa" {
		sc, ok := s.env.Target.(target.SPAController)
		if !ok || sc.SPA() == nil {
			return fmt.Errorf("%w: target %s has no SPA control plane", ErrUnsupported, s.env.Target.Name())
		}
		if c.Action == "set_scope" {
			return sc.SPA().SetScope(ctx, str("scope"))
		}
		return fmt.Errorf("SPA control action %q: %w by the reference stack yet", c.Action, ErrUnsupported)
	}
	if c.Target == "api" {
		api := s.env.Target.API()
		if api == nil {
			return fmt.Errorf("%w: the target has no API control plane", ErrUnsupported)
		}
		switch c.Action {
		case "restart":
			_, err := api.Restart(ctx)
			return err
		case "set_expected_issuer":
			_, err := api.SetExpectedIssuer(ctx, str("issuer"))
			return err
		}
		return fmt.Errorf("API control action %q: %w by the reference stack yet", c.Action, ErrUnsupported)
	}
	as := s.env.Target.AS()
	if as == nil {
		return fmt.Errorf("%w: the target has no AS control plane", ErrUnsupported)
	}
	switch c.Action {
	case "publish_key":
		kid, err := as.PublishKey(ctx)
		s.keys[keyName()] = kid
		return err
	case "activate_key":
		_, err := as.ActivateKey(ctx)
		return err
	case "retire_key":
		kid, ok := s.keys[keyName()]
		if !ok {
			return fmt.Errorf("retire_key: no key named %q (the initial key is a; name others with publish_key or rotate_now)", keyName())
		}
		_, err := as.RetireKey(ctx, kid)
		return err
	case "rotate_now":
		kid, err := as.RotateNow(ctx, false)
		s.keys[keyName()] = kid
		return err
	case "restart":
		ks, err := as.Restart(ctx)
		if k, ok := ks.Active(); ok {
			s.keys["a"] = k.KID
		}
		return err
	case "revoke_sessions":
		_, err := as.RevokeSessions(ctx, str("user"))
		return err
	case "set_lifetimes":
		var l control.Lifetimes
		var err1, err2, err3 error
		l.AccessToken, err1 = dur("access_token")
		l.RefreshIdle, err2 = dur("refresh_token_idle")
		l.RefreshAbsolute, err3 = dur("refresh_token_absolute")
		if err := errors.Join(err1, err2, err3); err != nil {
			return err
		}
		_, err := as.SetLifetimes(ctx, l)
		return err
	case "set_refresh_policy":
		p, err := as.RefreshPolicy(ctx)
		if err != nil {
			return err
		}
		if v, ok := c.Args["rotation"].(bool); ok {
			p.Rotation = v
		}
		if v, ok := c.Args["reuse_detection"].(bool); ok {
			p.ReuseDetection = v
		}
		if _, ok := c.Args["grace"]; ok {
			if p.Grace, err = dur("grace"); err != nil {
				return err
			}
		}
		_, err = as.SetRefreshPolicy(ctx, p)
		return err
	case "next_authorization":
		next := control.NextAuthorization{Error: str("error"), ErrorDescription: str("error_description")}
		if drop := str("drop_scope"); drop != "" {
			var keep []string
			for _, sc := range strings.Fields("openid profile email offline_access api:read") {
				if sc != drop {
					keep = append(keep, sc)
				}
			}
			next.GrantScope = strings.Join(keep, " ")
		}
		return as.SetNextAuthorization(ctx, next)
	case "set_token_audience":
		_, err := as.SetTokenAudience(ctx, str("audience"))
		return err
	case "alter_id_token":
		return s.alterIDToken(ctx, as, c.Args)
	case "sign_id_token":
		sign := map[string]string{"alg_none": control.SignAlgNone, "foreign_key": control.SignForeignKey}[str("with")]
		if sign == "" {
			return fmt.Errorf("sign_id_token with %q: want alg_none or foreign_key", str("with"))
		}
		return as.AlterNextIDToken(ctx, control.IDTokenAlteration{During: control.DuringSignIn, Sign: sign})
	case "alter_userinfo":
		return as.AlterNextUserinfo(ctx, str("sub"))
	case "end_session":
		_, err := as.EndBrowserSessions(ctx, str("user"))
		return err
	case "set_jwks_max_age":
		d, err := dur("max_age")
		if err != nil {
			return err
		}
		_, err = as.SetJWKSCacheMaxAge(ctx, d)
		return err
	}
	return fmt.Errorf("AS control action %q: %w by the reference stack yet", c.Action, ErrUnsupported)
}

// alterIDToken arms a one-shot change of one ID-token claim. The value
// "past" for a time claim means an hour before the AS's clock.
func (s *Session) alterIDToken(ctx context.Context, as *control.AS, args map[string]any) error {
	claim, _ := args["claim"].(string)
	during, _ := args["during"].(string)
	if during == "" {
		during = control.DuringSignIn
	}
	alt := control.IDTokenAlteration{During: during}
	if remove, _ := args["remove"].(bool); remove {
		alt.Remove = []string{claim}
		return as.AlterNextIDToken(ctx, alt)
	}
	value := args["value"]
	if value == "past" && (claim == "exp" || claim == "iat" || claim == "nbf" || claim == "auth_time") {
		now, err := as.Clock(ctx)
		if err != nil {
			return err
		}
		value = now.Now.Add(-time.Hour).Unix()
	}
	alt.Set = map[string]any{claim: value}
	return as.AlterNextIDToken(ctx, alt)
}
