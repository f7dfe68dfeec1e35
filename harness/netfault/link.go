package netfault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
)

// Fault layers, as written in events.
const (
	LayerNetwork = "network"
	LayerHTTP    = "http"
)

// Link is one named hop of the topology (spa, as, api, jwks): a toxiproxy
// proxy that clients dial, in front of an HTTP fault proxy, in front of the
// upstream server. It is safe for concurrent use.
type Link struct {
	name string
	net  *Network
	addr string // toxiproxy listener, what clients dial

	// toxiproxy side; proxyMu serialises calls that mutate the client's Proxy
	proxyMu sync.Mutex
	proxy   *toxiclient.Proxy
	down    int // Disable handles not yet removed
	seq     atomic.Int64

	// HTTP fault proxy side
	faultAddr string
	faultSrv  *http.Server
	transport *http.Transport
	upstream  atomic.Pointer[string]
	aliases   atomic.Pointer[map[string]string]
	tcpOnly   bool // toxiproxy straight to the upstream: no HTTP layer
	faultsMu  sync.Mutex
	faults    []*httpFaultState
	triggers  []*trigger
	log       *requestLog

	closeOnce sync.Once
	closeErr  error
}

// Name is the link's name, e.g. "as".
func (l *Link) Name() string { return l.name }

// Addr is the host:port clients dial: the toxiproxy listener.
func (l *Link) Addr() string { return l.addr }

// FaultProxyAddr is the host:port of the HTTP fault proxy behind toxiproxy.
// Dialling it bypasses the network layer; it is exposed for diagnostics.
func (l *Link) FaultProxyAddr() string { return l.faultAddr }

// SetUpstream sets the host:port the link forwards to. It takes effect for the
// next request; it may be called before the upstream server listens. On a
// TCP-only link (AddTCPLink) it takes effect for new connections.
func (l *Link) SetUpstream(hostport string) error {
	l.upstream.Store(&hostport)
	if l.tcpOnly {
		l.proxyMu.Lock()
		defer l.proxyMu.Unlock()
		l.proxy.Upstream = hostport
		if err := l.proxy.Save(); err != nil {
			return fmt.Errorf("netfault: link %q: set toxiproxy upstream %s: %w", l.name, hostport, err)
		}
		return nil
	}
	l.transport.CloseIdleConnections()
	return nil
}

// HasHTTPLayer reports whether the link has an HTTP fault proxy: counters,
// the request log and HTTP faults. A TCP-only link (for TLS) has none.
func (l *Link) HasHTTPLayer() bool { return !l.tcpOnly }

// SetPathAliases makes the HTTP layer see some request paths under other
// names, for counters, the request log and fault matching: a deployment's AS
// serving "/realms/x/protocol/openid-connect/token" can then be counted and
// faulted as "/token", as the catalogue writes it. nil removes the aliases.
func (l *Link) SetPathAliases(aliases map[string]string) {
	m := make(map[string]string, len(aliases))
	for k, v := range aliases {
		m[k] = v
	}
	l.aliases.Store(&m)
}

// pathName is the name the HTTP layer uses for a request path.
func (l *Link) pathName(path string) string {
	if m := l.aliases.Load(); m != nil {
		if alias, ok := (*m)[path]; ok {
			return alias
		}
	}
	return path
}

// Upstream returns the host:port set by SetUpstream ("" if unset).
func (l *Link) Upstream() string {
	if p := l.upstream.Load(); p != nil {
		return *p
	}
	return ""
}

// AddToxic adds a toxiproxy toxic to the link. Remove on the result heals it;
// removing a timeout toxic closes the connections it was holding.
func (l *Link) AddToxic(ctx context.Context, t Toxic) (*Applied, error) {
	if err := t.validate(); err != nil {
		return nil, fmt.Errorf("netfault: link %q: %w", l.name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	stream := t.Stream
	if stream == "" {
		stream = Downstream
	}
	toxicity := t.Toxicity
	if toxicity == 0 {
		toxicity = 1
	}
	name := fmt.Sprintf("%s_%s_%d", t.Type, stream, l.seq.Add(1))
	attrs := toxiclient.Attributes{}
	for k, v := range t.Attributes {
		attrs[k] = v
	}
	l.proxyMu.Lock()
	_, err := l.proxy.AddToxic(name, t.Type, stream, toxicity, attrs)
	l.proxyMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("netfault: link %q: add %s toxic: %w", l.name, t.describe(stream, toxicity), err)
	}
	desc := t.describe(stream, toxicity)
	ev := l.net.record(l.name, name, LayerNetwork, desc)
	return &Applied{Description: desc, Layer: LayerNetwork, event: ev, remove: func(ctx context.Context) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.proxyMu.Lock()
		err := l.proxy.RemoveToxic(name)
		l.proxyMu.Unlock()
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("netfault: link %q: remove toxic %s: %w", l.name, name, err)
		}
		return nil
	}}, nil
}

// Disable takes the link down: toxiproxy closes its listener and every open
// connection, so clients get "connection refused". Remove re-enables it on the
// same port. Several Disable handles may overlap; the link comes back up when
// the last one is removed.
func (l *Link) Disable(ctx context.Context) (*Applied, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.proxyMu.Lock()
	if l.down == 0 {
		if err := l.proxy.Disable(); err != nil {
			l.proxyMu.Unlock()
			return nil, fmt.Errorf("netfault: link %q: disable toxiproxy proxy: %w", l.name, err)
		}
	}
	l.down++
	l.proxyMu.Unlock()
	desc := "link down (connections refused)"
	ev := l.net.record(l.name, "down_"+fmt.Sprint(l.seq.Add(1)), LayerNetwork, desc)
	return &Applied{Description: desc, Layer: LayerNetwork, event: ev, remove: func(ctx context.Context) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.proxyMu.Lock()
		defer l.proxyMu.Unlock()
		if l.down == 1 {
			if err := l.proxy.Enable(); err != nil {
				return fmt.Errorf("netfault: link %q: re-enable toxiproxy proxy on %s: %w (another process may have taken the port)", l.name, l.addr, err)
			}
		}
		l.down--
		return nil
	}}, nil
}

// Events returns the faults applied on this link, oldest first.
func (l *Link) Events() []Event {
	return l.net.eventsWhere(func(link string) bool { return link == l.name })
}

// close deletes the toxiproxy proxy and stops the fault proxy.
func (l *Link) close() error {
	l.closeOnce.Do(func() {
		var errs []error
		l.proxyMu.Lock()
		if err := l.proxy.Delete(); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("netfault: link %q: delete toxiproxy proxy: %w", l.name, err))
		}
		l.proxyMu.Unlock()
		if err := l.stopFaultProxy(); err != nil {
			errs = append(errs, fmt.Errorf("netfault: link %q: stop HTTP fault proxy: %w", l.name, err))
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

func isNotFound(err error) bool {
	var apiErr *toxiclient.ApiError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound
}

// Applied is one fault in force. Remove heals it.
type Applied struct {
	// Description says what the fault does, e.g. "latency 500ms ±100ms downstream".
	Description string
	// Layer is LayerNetwork or LayerHTTP.
	Layer string

	event  *eventRecord
	remove func(context.Context) error
	http   *httpFaultState // nil for network faults
	mu     sync.Mutex
	done   bool
}

// Remove heals the fault. It is idempotent: once it has succeeded, later calls
// return nil. After a failure it may be called again.
func (a *Applied) Remove(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return nil
	}
	if a.event.isRemoved() { // the network was closed
		a.done = true
		return nil
	}
	if err := a.remove(ctx); err != nil {
		return err
	}
	a.done = true
	a.event.markRemoved(time.Now())
	return nil
}

// Hits is how many requests an HTTP fault has acted on (0 for network faults).
func (a *Applied) Hits() int {
	if a.http == nil {
		return 0
	}
	return int(a.http.hits.Load())
}

// Event records one fault for evidence: what it was and when it was in force.
type Event struct {
	Link        string    `json:"link"`
	Name        string    `json:"name"`
	Layer       string    `json:"layer"`
	Description string    `json:"description"`
	AppliedAt   time.Time `json:"applied_at"`
	// RemovedAt is zero while the fault is in force.
	RemovedAt time.Time `json:"removed_at,omitzero"`
}

type eventRecord struct {
	link, name, layer, desc string
	applied                 time.Time
	mu                      sync.Mutex
	removed                 time.Time
}

func (r *eventRecord) markRemoved(t time.Time) {
	r.mu.Lock()
	if r.removed.IsZero() {
		r.removed = t
	}
	r.mu.Unlock()
}

func (r *eventRecord) isRemoved() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.removed.IsZero()
}

func (r *eventRecord) snapshot() Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Event{Link: r.link, Name: r.name, Layer: r.layer, Description: r.desc, AppliedAt: r.applied, RemovedAt: r.removed}
}
