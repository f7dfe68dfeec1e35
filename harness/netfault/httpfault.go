package netfault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CORSHeaderPrefix is the prefix of every CORS response header; put it in
// HTTPFault.StripHeaderPrefixes to make responses unreadable cross-origin.
const CORSHeaderPrefix = "Access-Control-"

// Match selects requests for an HTTP fault. Empty fields match anything.
type Match struct {
	// Method, e.g. "POST". CORS preflights have method "OPTIONS".
	Method string
	// Path must equal the request path, e.g. "/token".
	Path string
	// PathPrefix must prefix the request path, e.g. "/api/".
	PathPrefix string
	// GrantType must equal the form field grant_type, e.g. "refresh_token".
	GrantType string
}

func (m Match) matches(method, path, grant string) bool {
	return (m.Method == "" || strings.EqualFold(m.Method, method)) &&
		(m.Path == "" || m.Path == path) &&
		(m.PathPrefix == "" || strings.HasPrefix(path, m.PathPrefix)) &&
		(m.GrantType == "" || m.GrantType == grant)
}

func (m Match) String() string {
	var parts []string
	if m.Method != "" {
		parts = append(parts, m.Method)
	}
	switch {
	case m.Path != "":
		parts = append(parts, m.Path)
	case m.PathPrefix != "":
		parts = append(parts, m.PathPrefix+"*")
	default:
		parts = append(parts, "any path")
	}
	if m.GrantType != "" {
		parts[len(parts)-1] += "[" + m.GrantType + "]"
	}
	return strings.Join(parts, " ")
}

// Response is a canned answer given instead of forwarding the request.
type Response struct {
	Status  int
	Headers map[string]string
	Body    string
	// CORS adds Access-Control-Allow-Origin (echoing the request's Origin),
	// Access-Control-Allow-Credentials and Access-Control-Expose-Headers, as a
	// gateway configured for the SPA would, so the browser can read the answer.
	CORS bool
}

// HTTPFault changes what the HTTP fault proxy does with matching requests.
// Actions combine: a fault may delay and then respond, or strip headers and
// truncate the body of the upstream's answer.
type HTTPFault struct {
	// Name labels the fault in events (optional).
	Name  string
	Match Match
	// Times limits the fault to the first Times matching requests; 0 means
	// every matching request until removed.
	Times int

	// Delay holds the request this long before acting on it.
	Delay time.Duration
	// Respond answers with this response; the upstream never sees the request.
	Respond *Response
	// DropResponse forwards the request, lets the upstream handle it, then
	// closes the client's connection without an answer.
	DropResponse bool
	// StripHeaderPrefixes removes response headers whose names start with any
	// of these prefixes (case-insensitive), e.g. CORSHeaderPrefix.
	StripHeaderPrefixes []string
	// SetHeaders sets response headers (an empty value deletes the header).
	SetHeaders map[string]string
	// TruncateBody, when > 0, cuts the upstream's body to its first
	// TruncateBody bytes (Content-Length adjusted: well-formed HTTP, broken
	// content).
	TruncateBody int
	// CorruptBody overwrites the middle of the upstream's body with bytes that
	// no JSON parser accepts, keeping its length.
	CorruptBody bool
	// MinStatus, when > 0, limits the response changes above (headers, body)
	// to upstream answers with at least this status, e.g. 400 for errors only.
	MinStatus int
	// AddRequestHeaders sets headers on the request before it is forwarded,
	// e.g. a failure switch the upstream honours.
	AddRequestHeaders map[string]string
	// StripRequestHeaders removes these request headers (names,
	// case-insensitive) before the request is forwarded, e.g. "Cookie" for a
	// browser that does not send the AS its session cookie.
	StripRequestHeaders []string
}

func (f HTTPFault) validate() error {
	if f.Respond != nil && f.DropResponse {
		return errors.New("Respond and DropResponse exclude each other")
	}
	if f.Respond != nil && (f.Respond.Status < 100 || f.Respond.Status > 999) {
		return fmt.Errorf("Respond.Status %d is not an HTTP status", f.Respond.Status)
	}
	if f.Times < 0 || f.TruncateBody < 0 || f.Delay < 0 || f.MinStatus < 0 {
		return errors.New("Times, TruncateBody, Delay and MinStatus must not be negative")
	}
	if f.MinStatus > 0 && !f.changesResponse() {
		return errors.New("MinStatus only limits response changes (headers, body); set one")
	}
	if f.Respond == nil && !f.DropResponse && f.Delay == 0 && !f.changesResponse() && len(f.AddRequestHeaders) == 0 && len(f.StripRequestHeaders) == 0 {
		return errors.New("the fault does nothing: set Delay, Respond, DropResponse, header changes, a body change or request headers")
	}
	for _, h := range f.StripRequestHeaders {
		if strings.TrimSpace(h) == "" {
			return errors.New("StripRequestHeaders holds an empty header name")
		}
	}
	return nil
}

func (f HTTPFault) String() string {
	var acts []string
	if f.Delay > 0 {
		acts = append(acts, "delay "+f.Delay.String())
	}
	if f.Respond != nil {
		acts = append(acts, "respond "+strconv.Itoa(f.Respond.Status))
	}
	if f.DropResponse {
		acts = append(acts, "drop the response after the upstream handled the request")
	}
	if len(f.StripHeaderPrefixes) > 0 {
		acts = append(acts, "strip headers "+strings.Join(f.StripHeaderPrefixes, "*, ")+"*")
	}
	for k, v := range f.SetHeaders {
		if v == "" {
			acts = append(acts, "delete header "+k)
		} else {
			acts = append(acts, fmt.Sprintf("set header %s: %s", k, v))
		}
	}
	if f.TruncateBody > 0 {
		acts = append(acts, fmt.Sprintf("truncate body to %d bytes", f.TruncateBody))
	}
	if f.CorruptBody {
		acts = append(acts, "corrupt body")
	}
	if f.MinStatus > 0 {
		acts = append(acts, fmt.Sprintf("on answers >= %d", f.MinStatus))
	}
	for k, v := range f.AddRequestHeaders {
		acts = append(acts, fmt.Sprintf("add request header %s: %s", k, v))
	}
	if len(f.StripRequestHeaders) > 0 {
		acts = append(acts, "strip request headers "+strings.Join(f.StripRequestHeaders, ", "))
	}
	s := f.Match.String() + ": " + strings.Join(acts, ", ")
	if f.Times > 0 {
		s += fmt.Sprintf(" (first %d)", f.Times)
	}
	return s
}

// changesResponse reports whether the fault edits the upstream's answer.
func (f HTTPFault) changesResponse() bool {
	return len(f.StripHeaderPrefixes) > 0 || len(f.SetHeaders) > 0 || f.TruncateBody > 0 || f.CorruptBody
}

type httpFaultState struct {
	fault   HTTPFault
	name    string
	used    atomic.Int64 // matches claimed (bounded by Times)
	hits    atomic.Int64
	removed atomic.Bool
}

// claim reports whether this fault acts on one more matching request.
func (s *httpFaultState) claim() bool {
	if s.removed.Load() {
		return false
	}
	if s.fault.Times == 0 {
		s.hits.Add(1)
		return true
	}
	for {
		n := s.used.Load()
		if n >= int64(s.fault.Times) {
			return false
		}
		if s.used.CompareAndSwap(n, n+1) {
			s.hits.Add(1)
			return true
		}
	}
}

// AddHTTPFault applies an HTTP fault on the link. It returns an error only if
// the fault is malformed; Remove on the result heals it (requests already
// being delayed still complete).
func (l *Link) AddHTTPFault(f HTTPFault) (*Applied, error) {
	if l.tcpOnly {
		return nil, fmt.Errorf("netfault: link %q carries its traffic unread (TLS), so it has no HTTP layer for fault %s; HTTP faults need a plain-http link", l.name, f.Match)
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("netfault: link %q: HTTP fault %s: %w", l.name, f.Match, err)
	}
	name := f.Name
	if name == "" {
		name = fmt.Sprintf("http_%d", l.seq.Add(1))
	}
	st := &httpFaultState{fault: f, name: name}
	l.faultsMu.Lock()
	l.faults = append(l.faults, st)
	l.faultsMu.Unlock()
	desc := f.String()
	ev := l.net.record(l.name, name, LayerHTTP, desc)
	return &Applied{Description: desc, Layer: LayerHTTP, event: ev, http: st, remove: func(context.Context) error {
		st.removed.Store(true)
		l.faultsMu.Lock()
		defer l.faultsMu.Unlock()
		l.faults = slices.DeleteFunc(l.faults, func(s *httpFaultState) bool { return s == st })
		return nil
	}}, nil
}

// trigger is a callback armed by OnRequest: it runs once, for the first
// request that matches.
type trigger struct {
	match Match
	fire  func()
	once  sync.Once
	done  atomic.Bool
}

// OnRequest arms fire to run once, when the link first sees a request that
// matches m (CORS preflights match only a Method "OPTIONS"). It runs on the
// request's goroutine before the request goes on, so whatever fire changes
// (a fault on another link, say) is in force for everything the request
// leads to. Disarm cancels it if it has not run yet; it returns whether fire ran.
func (l *Link) OnRequest(m Match, fire func()) (disarm func() bool, err error) {
	if l.tcpOnly {
		return nil, fmt.Errorf("netfault: link %q carries its traffic unread (TLS), so it cannot see the request %s", l.name, m)
	}
	t := &trigger{match: m, fire: fire}
	l.faultsMu.Lock()
	l.triggers = append(l.triggers, t)
	l.faultsMu.Unlock()
	return func() bool {
		t.once.Do(func() {}) // from now on it cannot fire
		l.faultsMu.Lock()
		l.triggers = slices.DeleteFunc(l.triggers, func(x *trigger) bool { return x == t })
		l.faultsMu.Unlock()
		return t.done.Load()
	}, nil
}

// runTriggers fires the armed callbacks that match this request.
func (l *Link) runTriggers(method, path, grant string) {
	preflight := method == http.MethodOptions
	l.faultsMu.Lock()
	var due []*trigger
	for _, t := range l.triggers {
		if t.match.matches(method, path, grant) && (!preflight || strings.EqualFold(t.match.Method, method)) {
			due = append(due, t)
		}
	}
	l.faultsMu.Unlock()
	for _, t := range due {
		t.once.Do(func() {
			t.done.Store(true)
			t.fire()
		})
	}
}

// claimFaults returns the faults that act on this request, in the order added.
func (l *Link) claimFaults(method, path, grant string) []*httpFaultState {
	l.faultsMu.Lock()
	faults := append([]*httpFaultState(nil), l.faults...)
	l.faultsMu.Unlock()
	var out []*httpFaultState
	for _, s := range faults {
		if s.fault.Match.matches(method, path, grant) && s.claim() {
			out = append(out, s)
		}
	}
	return out
}

// Counters returns a copy of the link's request counts (see the package doc
// for the keys).
func (l *Link) Counters() map[string]int { return l.log.counters() }

// Count returns one counter, e.g. Count("/token[refresh_token]").
func (l *Link) Count(key string) int { return l.log.count(key) }

// ResetCounters sets every counter back to zero (the request log is kept).
func (l *Link) ResetCounters() { l.log.resetCounters() }

// Requests returns the request log, oldest first (bounded; see Options).
func (l *Link) Requests() []RequestRecord { return l.log.records() }

type ctxKey struct{}

type proxyState struct {
	faults []*httpFaultState
	drop   bool
	err    error
}

func (l *Link) startFaultProxy(listen string) error {
	l.transport = &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&url.URL{Scheme: "http", Host: l.Upstream()})
			pr.Out.Host = pr.In.Host // the upstream sees the name the client used
		},
		Transport:      l.transport,
		FlushInterval:  -1,
		ModifyResponse: l.modifyResponse,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if st, ok := r.Context().Value(ctxKey{}).(*proxyState); ok {
				st.err = err
			}
			if r.Context().Err() != nil {
				return // the client has gone; nobody to answer
			}
			http.Error(w, fmt.Sprintf("netfault link %q: upstream %s: %v", l.name, l.Upstream(), err), http.StatusBadGateway)
		},
		ErrorLog: nil,
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	l.faultAddr = ln.Addr().String()
	l.faultSrv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { l.serve(w, r, rp) }),
		// No read timeouts: a black hole on the upstream stream must hold the
		// client until its own timeout, not until ours.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    discardLogger,
	}
	go func() { _ = l.faultSrv.Serve(ln) }()
	return nil
}

func (l *Link) stopFaultProxy() error {
	if l.faultSrv == nil {
		return nil
	}
	err := l.faultSrv.Close()
	l.transport.CloseIdleConnections()
	return err
}

// serve handles one request on the fault proxy: count, claim faults, act.
func (l *Link) serve(w http.ResponseWriter, r *http.Request, rp *httputil.ReverseProxy) {
	start := time.Now()
	grant := readGrantType(r)
	path := l.pathName(r.URL.Path)
	l.log.count1(r.Method, path, grant)
	l.runTriggers(r.Method, path, grant)
	faults := l.claimFaults(r.Method, path, grant)
	rec := RequestRecord{Time: start, Method: r.Method, Path: path, Query: redactQuery(r.URL.Query()), GrantType: grant}
	for _, f := range faults {
		rec.Faults = append(rec.Faults, f.name)
	}
	logged := false
	logRecord := func() {
		if !logged {
			logged = true
			rec.Duration = time.Since(start)
			l.log.add(rec)
		}
	}
	defer logRecord()

	var delay time.Duration
	var respond *Response
	st := &proxyState{}
	for _, f := range faults {
		delay += f.fault.Delay
		if respond == nil && f.fault.Respond != nil {
			respond = f.fault.Respond
		}
		st.drop = st.drop || f.fault.DropResponse
		if f.fault.changesResponse() {
			st.faults = append(st.faults, f)
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			rec.Outcome = "client gone during delay"
			return
		}
	}
	if respond != nil {
		writeCanned(w, r, respond)
		rec.Status = respond.Status
		rec.ResponseHeaders, rec.ResponseJSON = responseSummary(w.Header(), []byte(respond.Body))
		rec.Outcome = "answered by fault"
		return
	}
	if l.Upstream() == "" {
		http.Error(w, fmt.Sprintf("netfault link %q has no upstream yet (SetUpstream)", l.name), http.StatusBadGateway)
		rec.Status = http.StatusBadGateway
		rec.Outcome = "no upstream"
		return
	}
	for _, f := range faults {
		for k, v := range f.fault.AddRequestHeaders {
			r.Header.Set(k, v)
		}
		for _, k := range f.fault.StripRequestHeaders {
			r.Header.Del(k)
		}
	}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
	if st.drop {
		sink := &sinkWriter{header: http.Header{}}
		rp.ServeHTTP(sink, r)
		rec.Status = sink.status
		rec.Outcome = "response dropped"
		if st.err != nil {
			rec.Outcome += ": upstream error: " + st.err.Error()
		}
		logRecord() // before the client can see the connection close
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without an answer
	}
	sw := &statusWriter{ResponseWriter: w}
	rp.ServeHTTP(sw, r)
	rec.Status = sw.status
	rec.ResponseHeaders, rec.ResponseJSON = responseSummary(w.Header(), sw.body)
	if fn := l.net.tokenSeen.Load(); fn != nil {
		for field, v := range tokenFields(w.Header(), sw.body) {
			(*fn)(TokenSeen{Time: time.Now(), Link: l.name, Path: path, Field: field, Value: v})
		}
	}
	if st.err != nil {
		rec.Outcome = "upstream error: " + st.err.Error()
	}
}

// modifyResponse applies header and body changes of the request's faults.
func (l *Link) modifyResponse(resp *http.Response) error {
	st, _ := resp.Request.Context().Value(ctxKey{}).(*proxyState)
	if st == nil || len(st.faults) == 0 {
		return nil
	}
	for _, s := range st.faults {
		f := s.fault
		if f.MinStatus > 0 && resp.StatusCode < f.MinStatus {
			continue
		}
		for name := range resp.Header {
			for _, p := range f.StripHeaderPrefixes {
				if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
					resp.Header.Del(name)
				}
			}
		}
		for k, v := range f.SetHeaders {
			if v == "" {
				resp.Header.Del(k)
			} else {
				resp.Header.Set(k, v)
			}
		}
		if f.TruncateBody > 0 || f.CorruptBody {
			body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
			_ = resp.Body.Close()
			if err != nil {
				return err
			}
			if f.TruncateBody > 0 && len(body) > f.TruncateBody {
				body = body[:f.TruncateBody]
			}
			if f.CorruptBody && len(body) > 0 {
				mid := len(body) / 2
				end := min(mid+8, len(body))
				for i := mid; i < end; i++ {
					body[i] = 0x01
				}
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
			resp.Header.Del("Content-Encoding") // the bytes are ours now
			resp.TransferEncoding = nil
		}
	}
	return nil
}

func writeCanned(w http.ResponseWriter, r *http.Request, resp *Response) {
	h := w.Header()
	if resp.CORS {
		if origin := r.Header.Get("Origin"); origin != "" {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate, Retry-After")
			h.Add("Vary", "Origin")
		}
	}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	if h.Get("Content-Type") == "" && resp.Body != "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.Status)
	_, _ = io.WriteString(w, resp.Body)
}

// readGrantType returns the grant_type of a form POST and leaves the body
// readable for the upstream.
func readGrantType(r *http.Request) string {
	if r.Method != http.MethodPost || r.Body == nil || r.Body == http.NoBody {
		return ""
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return ""
	}
	const maxForm = 1 << 20
	body, err := io.ReadAll(io.LimitReader(r.Body, maxForm+1))
	// Put back what was read, followed by anything left unread.
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	if err != nil || len(body) > maxForm {
		return ""
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return v.Get("grant_type")
}

// statusWriter remembers the status code while passing everything through.
type statusWriter struct {
	http.ResponseWriter
	status int
	body   []byte // the first maxSummaryBody bytes, for the request log
}

// maxSummaryBody bounds how much of an answer the request log looks at.
const maxSummaryBody = 64 << 10

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if room := maxSummaryBody - len(w.body); room > 0 {
		w.body = append(w.body, b[:min(room, len(b))]...)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// sinkWriter swallows the upstream's answer for DropResponse.
type sinkWriter struct {
	header http.Header
	status int
}

func (w *sinkWriter) Header() http.Header { return w.header }
func (w *sinkWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *sinkWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(b), nil
}
func (w *sinkWriter) Flush() {}
