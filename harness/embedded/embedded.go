package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"rehearsal/fixtures/api"
	"rehearsal/fixtures/authserver"
	"rehearsal/fixtures/clock"
	"rehearsal/fixtures/spa"
	"rehearsal/harness/control"
	"rehearsal/harness/netfault"
	"rehearsal/harness/target"
)

// The browser-facing host names; Chromium maps each (port 80) to its link.
const (
	SPAHost    = "app.rehearsal.test"
	IssuerHost = "login.rehearsal.test"
	APIHost    = "api.rehearsal.test"
)

// Link names, as in docs/wiring.md.
const (
	LinkSPA  = "spa"
	LinkAS   = "as"
	LinkAPI  = "api"
	LinkJWKS = "jwks"
)

// Options configures the embedded stack.
type Options struct {
	// Defects to switch on, by name (CATALOGUE.md "Defects").
	Defects []string
	// Loopback makes the browser-facing URLs plain http://127.0.0.1:PORT
	// (for a person with an ordinary browser, `rehearsal up`) instead of the
	// realistic host names mapped by Chromium's host resolver rules.
	Loopback bool
	// ToxiproxyURL is a remote toxiproxy server's API; empty runs one in-process.
	ToxiproxyURL string
	// Logger receives the servers' logs (nil discards; the journals keep them).
	Logger *slog.Logger
	// SPA timeouts; zero takes the SPA's defaults.
	SPAAPITimeout, SPALoginTimeout, SPARenewTimeout time.Duration
}

// BundlePresent reports whether the SPA bundle was embedded when this binary
// was built, with what to do when it was not (commands check it before they
// start anything).
func BundlePresent() error { return spa.BundlePresent() }

// KnownDefects lists every defect the reference stack offers.
func KnownDefects() []string {
	all := slices.Concat(authserver.KnownDefects, api.KnownDefects, spa.Known)
	sort.Strings(all)
	return all
}

// Stack is the running reference stack. It implements target.Target.
type Stack struct {
	opts      Options
	net       *netfault.Network
	urls      target.URLs
	hostRules map[string]string
	hc        *http.Client

	ASServer  *authserver.Server
	APIServer *api.Server
	SPAServer *spa.Server
	// ASClock and APIClock are the two servers' clocks (TIME rows skew them apart).
	ASClock, APIClock *clock.Clock

	asCtl    *control.AS
	apiCtl   *control.API
	spaCtl   *control.SPA
	servers  []*http.Server
	closeMu  sync.Mutex
	closed   bool
	closeErr error
}

var (
	_ target.Target        = (*Stack)(nil)
	_ target.SPAController = (*Stack)(nil)
)

// Start builds and starts the stack. On error everything already started is
// stopped again.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	if err := checkDefects(opts.Defects); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Stack{opts: opts, ASClock: clock.New(), APIClock: clock.New()}
	defer func() {
		if err != nil {
			_ = s.Close(context.Background())
		}
	}()

	s.net, err = netfault.NewNetwork(ctx, netfault.Options{ToxiproxyURL: opts.ToxiproxyURL})
	if err != nil {
		return nil, fmt.Errorf("embedded stack: start the fault network: %w", err)
	}
	links := map[string]*netfault.Link{}
	for _, name := range []string{LinkSPA, LinkAS, LinkAPI, LinkJWKS} {
		l, err := s.net.AddLink(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("embedded stack: create link %q: %w", name, err)
		}
		links[name] = l
	}

	if opts.Loopback {
		s.urls = target.URLs{
			SPA:    "http://" + links[LinkSPA].Addr(),
			Issuer: "http://" + links[LinkAS].Addr(),
			API:    "http://" + links[LinkAPI].Addr(),
		}
		s.hostRules = map[string]string{}
		s.hc = netfault.HTTPClientFor(map[string]string{
			links[LinkSPA].Addr(): links[LinkSPA].Addr(),
			links[LinkAS].Addr():  links[LinkAS].Addr(),
			links[LinkAPI].Addr(): links[LinkAPI].Addr(),
		})
	} else {
		s.urls = target.URLs{SPA: "http://" + SPAHost, Issuer: "http://" + IssuerHost, API: "http://" + APIHost}
		s.hostRules = map[string]string{
			SPAHost + ":80":    links[LinkSPA].Addr(),
			IssuerHost + ":80": links[LinkAS].Addr(),
			APIHost + ":80":    links[LinkAPI].Addr(),
		}
		s.hc = netfault.HTTPClientFor(s.hostRules)
	}

	if err := s.startFixtures(links); err != nil {
		return nil, err
	}
	return s, nil
}

// startFixtures builds fresh servers (fresh clocks, keys and stores) behind the links.
func (s *Stack) startFixtures(links map[string]*netfault.Link) (err error) {
	opts := s.opts
	s.ASClock, s.APIClock = clock.New(), clock.New()
	s.ASServer, err = authserver.New(authserver.Config{
		Issuer:                 s.urls.Issuer,
		RedirectURIs:           []string{s.urls.SPA + "/callback", s.urls.SPA + "/silent-callback.html"},
		PostLogoutRedirectURIs: []string{s.urls.SPA + "/"},
		AllowedOrigins:         []string{s.urls.SPA},
		Clock:                  s.ASClock,
		Defects:                opts.Defects,
		Logger:                 opts.Logger.With("server", "as"),
	})
	if err != nil {
		return fmt.Errorf("embedded stack: %w", err)
	}
	s.APIServer, err = api.New(api.Config{
		Issuer:         s.urls.Issuer,
		JWKSURL:        "http://" + links[LinkJWKS].Addr() + "/keys",
		AllowedOrigins: []string{s.urls.SPA},
		Clock:          s.APIClock,
		Defects:        opts.Defects,
		Logger:         opts.Logger.With("server", "api"),
	})
	if err != nil {
		return fmt.Errorf("embedded stack: %w", err)
	}
	s.SPAServer, err = spa.New(spa.Config{
		PublicURL:    s.urls.SPA,
		Authority:    s.urls.Issuer,
		APIBase:      s.urls.API,
		APITimeout:   opts.SPAAPITimeout,
		LoginTimeout: opts.SPALoginTimeout,
		RenewTimeout: opts.SPARenewTimeout,
		Defects:      opts.Defects,
		Logger:       opts.Logger.With("server", "spa"),
	})
	if err != nil {
		return fmt.Errorf("embedded stack: %w", err)
	}

	asAddr, err := s.serve(s.ASServer.Handler())
	if err != nil {
		return err
	}
	apiAddr, err := s.serve(s.APIServer.Handler())
	if err != nil {
		return err
	}
	spaAddr, err := s.serve(s.SPAServer.Handler())
	if err != nil {
		return err
	}
	asCtlAddr, err := s.serve(s.ASServer.ControlHandler())
	if err != nil {
		return err
	}
	apiCtlAddr, err := s.serve(s.APIServer.ControlHandler())
	if err != nil {
		return err
	}
	spaCtlAddr, err := s.serve(s.SPAServer.ControlHandler())
	if err != nil {
		return err
	}
	links[LinkSPA].SetUpstream(spaAddr)
	links[LinkAS].SetUpstream(asAddr)
	links[LinkJWKS].SetUpstream(asAddr)
	links[LinkAPI].SetUpstream(apiAddr)

	ctlClient := &http.Client{Timeout: 30 * time.Second}
	s.asCtl = control.NewAS("http://"+asCtlAddr, ctlClient)
	s.apiCtl = control.NewAPI("http://"+apiCtlAddr, ctlClient)
	s.spaCtl = control.NewSPA("http://"+spaCtlAddr, ctlClient)
	return nil
}

func checkDefects(names []string) error {
	known := KnownDefects()
	var unknown []string
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(known, n) {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("unknown defect(s) %s; the reference stack offers: %s",
			strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return nil
}

// serve runs h on a new 127.0.0.1:0 listener and returns its address.
func (s *Stack) serve(h http.Handler) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("embedded stack: listen on 127.0.0.1:0: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() { _ = srv.Serve(l) }()
	return l.Addr().String(), nil
}

// Name implements target.Target.
func (s *Stack) Name() string { return "embedded" }

// URLs implements target.Target.
func (s *Stack) URLs() target.URLs { return s.urls }

// HostRules implements target.Target.
func (s *Stack) HostRules() map[string]string { return s.hostRules }

// Has implements target.Target: the embedded stack has every capability.
func (s *Stack) Has(target.Capability) bool { return true }

// Link implements target.Target.
func (s *Stack) Link(name string) *netfault.Link { return s.net.Link(name) }

// Network implements target.Target.
func (s *Stack) Network() *netfault.Network { return s.net }

// AS implements target.Target.
func (s *Stack) AS() *control.AS { return s.asCtl }

// API implements target.Target.
func (s *Stack) API() *control.API { return s.apiCtl }

// SPA implements target.SPAController.
func (s *Stack) SPA() *control.SPA { return s.spaCtl }

// HTTPClient implements target.Target.
func (s *Stack) HTTPClient() *http.Client { return s.hc }

// Users implements target.Target.
func (s *Stack) Users() []target.User {
	return []target.User{
		{Name: "alice", Password: "alice-password", Display: "Alice Liddell"},
		{Name: "bob", Password: "bob-password", Display: "Bob Builder"},
	}
}

// ControlURLs are the control planes' base URLs.
func (s *Stack) ControlURLs() (as, apiURL, spaURL string) {
	return s.asCtl.BaseURL(), s.apiCtl.BaseURL(), s.spaCtl.BaseURL()
}

// Renew replaces the three servers with fresh ones (fresh clocks, keys,
// stores, caches and journals) behind the same links, removes every fault
// left on the links and zeroes their counters. The browser-facing URLs do not
// change, so one browser per process serves every spec while each spec gets a
// stack in its initial state.
func (s *Stack) Renew(ctx context.Context) error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return errors.New("embedded stack: Renew after Close")
	}
	if err := s.stopFixtures(ctx); err != nil {
		return err
	}
	links := map[string]*netfault.Link{}
	for _, l := range s.net.Links() {
		l.ResetCounters()
		links[l.Name()] = l
	}
	return s.startFixtures(links)
}

// stopFixtures shuts the servers down and closes the fixtures.
func (s *Stack) stopFixtures(ctx context.Context) error {
	var errs []error
	for _, srv := range s.servers {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
		cancel()
	}
	s.servers = nil
	if s.SPAServer != nil {
		errs = append(errs, s.SPAServer.Close())
	}
	if s.APIServer != nil {
		errs = append(errs, s.APIServer.Close())
	}
	if s.ASServer != nil {
		errs = append(errs, s.ASServer.Close())
	}
	s.SPAServer, s.APIServer, s.ASServer = nil, nil, nil
	return errors.Join(errs...)
}

// Close stops the servers, the fixtures and the network. It is idempotent.
func (s *Stack) Close(ctx context.Context) error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return s.closeErr
	}
	s.closed = true
	errs := []error{s.stopFixtures(ctx)}
	if s.net != nil {
		if err := s.net.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close fault network: %w", err))
		}
	}
	s.closeErr = errors.Join(errs...)
	return s.closeErr
}

// AuthorizeDirect implements target.DirectAuthorizer with the reference AS's
// sign-in form.
func (s *Stack) AuthorizeDirect(ctx context.Context, user, method string) (target.DirectAuthorization, error) {
	var out target.DirectAuthorization
	pass := ""
	for _, u := range s.Users() {
		if u.Name == user {
			pass = u.Password
		}
	}
	if pass == "" {
		return out, fmt.Errorf("authorize: no test user %q (the reference stack has alice and bob)", user)
	}
	d, err := authserver.Discover(ctx, s.hc, s.urls.Issuer)
	if err != nil {
		return out, err
	}
	verifier, challenge := authserver.NewPKCE()
	p := authserver.AuthorizeParams{
		ClientID: authserver.DefaultClientID, RedirectURI: s.urls.SPA + "/callback",
		Scopes: []string{"openid", "profile", "offline_access", "api:read"},
		User:   user, Password: pass,
	}
	switch method {
	case "S256", "":
		p.CodeChallenge, p.CodeChallengeMethod = challenge, "S256"
	case "plain":
		p.CodeChallenge, p.CodeChallengeMethod = verifier, "plain"
	case "none":
	default:
		return out, fmt.Errorf("authorize: code_challenge_method %q: want S256, plain or none", method)
	}
	code, err := authserver.Authorize(ctx, s.hc, d, p)
	var te *authserver.TokenError
	if errors.As(err, &te) {
		out.Error, out.ErrorDescription, out.Status = te.Code, te.Description, te.Status
		return out, nil
	}
	if err != nil {
		return out, err
	}
	out.Code, out.Verifier = code, verifier
	return out, nil
}
