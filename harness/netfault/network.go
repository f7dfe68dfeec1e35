package netfault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/rs/zerolog"
)

// Options configures a Network. The zero value starts an in-process toxiproxy
// server and listens on 127.0.0.1 only.
type Options struct {
	// ToxiproxyURL is the HTTP API of a toxiproxy server to use, e.g.
	// "http://toxiproxy.ci:8474". Empty starts an in-process server whose API
	// listens on 127.0.0.1 with a free port.
	ToxiproxyURL string
	// ListenHost is the host toxiproxy's proxies listen on (default
	// "127.0.0.1"; the port is always 0, chosen by the system). A remote
	// toxiproxy server usually needs "0.0.0.0" so that clients can reach it.
	ListenHost string
	// FaultProxyHost is the host the HTTP fault proxies listen on (default
	// "127.0.0.1"). A remote toxiproxy server must be able to reach it.
	FaultProxyHost string
	// RequestLogSize bounds each link's request log (default 2000 entries).
	RequestLogSize int
}

// Network owns the toxiproxy server (or a connection to a remote one) and the
// links created through it. Create one per process (each Ginkgo process owns
// its own); it is safe for concurrent use.
type Network struct {
	tokenSeen atomic.Pointer[func(TokenSeen)]

	opts   Options
	client *toxiclient.Client
	apiURL string
	prefix string // makes proxy names unique on a shared toxiproxy server

	// in-process server, nil when remote
	server    *toxiproxy.ApiServer
	apiServer *http.Server

	mu     sync.Mutex
	links  map[string]*Link
	order  []string
	events []*eventRecord
	closed bool
}

// validLinkName keeps names usable in toxiproxy URLs and in counter keys.
var validLinkName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// NewNetwork starts an in-process toxiproxy server (or checks that the remote
// one in opts.ToxiproxyURL answers) and returns an empty network.
func NewNetwork(ctx context.Context, opts Options) (*Network, error) {
	if opts.ListenHost == "" {
		opts.ListenHost = "127.0.0.1"
	}
	if opts.FaultProxyHost == "" {
		opts.FaultProxyHost = "127.0.0.1"
	}
	if opts.RequestLogSize <= 0 {
		opts.RequestLogSize = 2000
	}
	n := &Network{opts: opts, links: map[string]*Link{}, prefix: "rehearsal-" + randomHex(4) + "-"}

	if opts.ToxiproxyURL == "" {
		if err := n.startInProcess(); err != nil {
			return nil, err
		}
	} else {
		n.apiURL = strings.TrimRight(opts.ToxiproxyURL, "/")
	}
	n.client = toxiclient.NewClient(n.apiURL)

	if err := ctx.Err(); err != nil {
		n.Close()
		return nil, err
	}
	if _, err := n.client.Version(); err != nil {
		n.Close()
		return nil, fmt.Errorf("netfault: toxiproxy API at %s does not answer GET /version: %w; start toxiproxy-server there, or unset REHEARSAL_TOXIPROXY_URL (--rehearsal.toxiproxy-url) to run one in-process", n.apiURL, err)
	}
	return n, nil
}

// startInProcess serves a fresh toxiproxy server's API on 127.0.0.1:0.
func (n *Network) startInProcess() error {
	// Toxics log through zerolog's global logger (trace lines on every
	// interrupted pipe); keep only errors out of the suite's output.
	zerolog.SetGlobalLevel(zerolog.ErrorLevel)
	n.server = toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("netfault: listen for the toxiproxy API: %w", err)
	}
	n.apiServer = &http.Server{
		Handler:           n.server.Routes(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = n.apiServer.Serve(ln) }()
	n.apiURL = "http://" + ln.Addr().String()
	return nil
}

// ToxiproxyURL is the API URL of the toxiproxy server in use (the in-process
// one listens on a free loopback port).
func (n *Network) ToxiproxyURL() string { return n.apiURL }

// AddLink creates the named link: an HTTP fault proxy on FaultProxyHost:0 and
// a toxiproxy proxy on ListenHost:0 in front of it. The link's upstream is set
// later with SetUpstream; until then requests through it get 502.
func (n *Network) AddLink(ctx context.Context, name string) (*Link, error) {
	return n.addLink(ctx, name, func() (*Link, error) { return n.newLink(name) })
}

func (n *Network) addLink(ctx context.Context, name string, build func() (*Link, error)) (*Link, error) {
	if !validLinkName.MatchString(name) {
		return nil, fmt.Errorf("netfault: link name %q must be letters, digits, '.', '_' or '-' (e.g. \"as\", \"jwks\")", name)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, fmt.Errorf("netfault: AddLink(%q) on a closed network", name)
	}
	if _, ok := n.links[name]; ok {
		n.mu.Unlock()
		return nil, fmt.Errorf("netfault: link %q already exists", name)
	}
	n.links[name] = nil // reserve the name while we build it
	n.mu.Unlock()

	l, err := build()
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil || n.closed {
		delete(n.links, name)
		if err == nil {
			l.close()
			err = fmt.Errorf("netfault: network closed while adding link %q", name)
		}
		return nil, err
	}
	n.links[name] = l
	n.order = append(n.order, name)
	return l, nil
}

// AddTCPLink creates the named link as a toxiproxy proxy straight to
// upstream, with no HTTP fault proxy: for traffic the harness cannot read
// (TLS to a real deployment). Network faults work; HTTP faults, request
// triggers and counters do not (HasHTTPLayer is false).
func (n *Network) AddTCPLink(ctx context.Context, name, upstream string) (*Link, error) {
	return n.addLink(ctx, name, func() (*Link, error) { return n.newTCPLink(name, upstream) })
}

func (n *Network) newTCPLink(name, upstream string) (*Link, error) {
	l := &Link{name: name, net: n, log: newRequestLog(1), tcpOnly: true}
	l.upstream.Store(&upstream)
	listen := net.JoinHostPort(n.opts.ListenHost, "0")
	p, err := n.client.CreateProxy(n.prefix+name, listen, upstream)
	if err != nil {
		return nil, fmt.Errorf("netfault: link %q: create toxiproxy proxy listening on %s for %s: %w", name, listen, upstream, err)
	}
	l.proxy = p
	addr, err := n.dialable(p.Listen)
	if err != nil {
		_ = p.Delete()
		return nil, fmt.Errorf("netfault: link %q: %w", name, err)
	}
	l.addr = addr
	return l, nil
}

func (n *Network) newLink(name string) (*Link, error) {
	l := &Link{name: name, net: n, log: newRequestLog(n.opts.RequestLogSize)}
	if err := l.startFaultProxy(net.JoinHostPort(n.opts.FaultProxyHost, "0")); err != nil {
		return nil, fmt.Errorf("netfault: link %q: start HTTP fault proxy: %w", name, err)
	}
	listen := net.JoinHostPort(n.opts.ListenHost, "0")
	p, err := n.client.CreateProxy(n.prefix+name, listen, l.faultAddr)
	if err != nil {
		l.stopFaultProxy()
		return nil, fmt.Errorf("netfault: link %q: create toxiproxy proxy listening on %s: %w", name, listen, err)
	}
	l.proxy = p
	// toxiproxy answers with the address its listener actually bound, so port
	// 0 is resolved; refuse to go on if a server ever echoes ":0" back.
	addr, err := n.dialable(p.Listen)
	if err != nil {
		_ = p.Delete()
		l.stopFaultProxy()
		return nil, fmt.Errorf("netfault: link %q: %w", name, err)
	}
	l.addr = addr
	return l, nil
}

// dialable turns the listen address toxiproxy reports into one clients can
// dial: an unspecified host (0.0.0.0, ::) becomes the toxiproxy API's host.
func (n *Network) dialable(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil || port == "0" || port == "" {
		return "", fmt.Errorf("toxiproxy reported listen address %q, not a bound host:port", listen)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		u, err := url.Parse(n.apiURL)
		if err != nil || u.Hostname() == "" {
			return "", fmt.Errorf("toxiproxy listens on %q and its API URL %q names no host to dial instead", listen, n.apiURL)
		}
		host = u.Hostname()
	}
	return net.JoinHostPort(host, port), nil
}

// Link returns the named link, or nil if there is none.
func (n *Network) Link(name string) *Link {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.links[name]
}

// Links returns the links in the order they were added.
func (n *Network) Links() []*Link {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*Link, 0, len(n.order))
	for _, name := range n.order {
		out = append(out, n.links[name])
	}
	return out
}

// Counters returns every link's request counters keyed as the catalogue
// writes them, "link:key" (e.g. "as:/token[refresh_token]").
func (n *Network) Counters() map[string]int {
	out := map[string]int{}
	for _, l := range n.Links() {
		for k, v := range l.Counters() {
			out[l.name+":"+k] = v
		}
	}
	return out
}

// Events returns every fault applied on any link, oldest first.
func (n *Network) Events() []Event {
	return n.eventsWhere(func(string) bool { return true })
}

func (n *Network) eventsWhere(keep func(link string) bool) []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []Event
	for _, r := range n.events {
		if keep(r.link) {
			out = append(out, r.snapshot())
		}
	}
	return out
}

func (n *Network) record(link, name, layer, desc string) *eventRecord {
	r := &eventRecord{link: link, name: name, layer: layer, desc: desc, applied: time.Now()}
	n.mu.Lock()
	n.events = append(n.events, r)
	n.mu.Unlock()
	return r
}

// Close removes every proxy this network created, stops the fault proxies and
// the in-process toxiproxy server, and marks all faults still applied as
// removed. It is idempotent; it returns the first error met but always tries
// every step.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	var links []*Link
	for _, name := range n.order {
		links = append(links, n.links[name])
	}
	n.mu.Unlock()

	var errs []error
	for _, l := range links {
		if err := l.close(); err != nil {
			errs = append(errs, err)
		}
	}
	now := time.Now()
	n.mu.Lock()
	for _, r := range n.events {
		r.markRemoved(now)
	}
	n.mu.Unlock()
	if n.server != nil {
		// Belt and braces: stop any proxy the API could not delete.
		if err := n.server.Collection.Clear(); err != nil {
			errs = append(errs, fmt.Errorf("netfault: clear in-process toxiproxy: %w", err))
		}
	}
	if n.apiServer != nil {
		if err := n.apiServer.Close(); err != nil {
			errs = append(errs, fmt.Errorf("netfault: stop toxiproxy API listener: %w", err))
		}
	}
	return errors.Join(errs...)
}

// HTTPClient returns an http.Client that reaches host names through links, as
// the browser does with its host resolver rules. hosts maps "host:port" (or a
// bare "host", meaning any port) to a link name, e.g.
// {"api.rehearsal.test:80": "api", "login.rehearsal.test": "as"}. Dialling any
// other host fails, so harness calls never leave the rehearsal topology.
//
// The client has bounded timeouts (dial 5 s, response headers 20 s, whole
// exchange 30 s), ignores proxy environment variables, keeps no cookies and
// does not follow redirects: a 302 is returned as is, so callers can check it.
func (n *Network) HTTPClient(hosts map[string]string) *http.Client {
	routes := func(ctx context.Context, hostport string) (string, error) {
		name, ok := hosts[hostport]
		if !ok {
			host, _, err := net.SplitHostPort(hostport)
			if err == nil {
				name, ok = hosts[host]
			}
		}
		if !ok {
			known := make([]string, 0, len(hosts))
			for h := range hosts {
				known = append(known, h)
			}
			sort.Strings(known)
			return "", fmt.Errorf("netfault: no link for %s (routed hosts: %s)", hostport, strings.Join(known, ", "))
		}
		l := n.Link(name)
		if l == nil {
			return "", fmt.Errorf("netfault: host %s routes to link %q, which does not exist", hostport, name)
		}
		return l.Addr(), nil
	}
	return newRoutedClient(routes)
}

// HTTPClientFor is like Network.HTTPClient for fixed addresses: routes maps
// "host:port" (or a bare "host") to the "host:port" to dial.
func HTTPClientFor(routes map[string]string) *http.Client {
	return newRoutedClient(func(ctx context.Context, hostport string) (string, error) {
		if a, ok := routes[hostport]; ok {
			return a, nil
		}
		if host, _, err := net.SplitHostPort(hostport); err == nil {
			if a, ok := routes[host]; ok {
				return a, nil
			}
		}
		return "", fmt.Errorf("netfault: no route for %s", hostport)
	})
}

func newRoutedClient(resolve func(ctx context.Context, hostport string) (string, error)) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			target, err := resolve(ctx, addr)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, target)
		},
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 20 * time.Second,
		IdleConnTimeout:       30 * time.Second,
		MaxIdleConnsPerHost:   8,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TokenSeen is a token a link carried in an answer's JSON body (the token
// endpoint's access_token, refresh_token and id_token).
type TokenSeen struct {
	Time  time.Time
	Link  string
	Path  string // the request path, as counted
	Field string // access_token, refresh_token or id_token
	Value string // the raw token: register it with a redactor, never write it
}

// OnToken calls fn with every token an answer on any link carries, from now
// on (nil stops it). fn runs on the proxy's request goroutine: keep it quick.
// The harness uses it to register issued tokens with its redactor and to
// build a spec's token timeline even after the browser has dropped them.
func (n *Network) OnToken(fn func(TokenSeen)) {
	if fn == nil {
		n.tokenSeen.Store(nil)
		return
	}
	n.tokenSeen.Store(&fn)
}
