package browser

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// ConsoleEntry is one console message, uncaught exception or browser log
// entry (CORS failures and failed loads appear there).
type ConsoleEntry struct {
	Type string    // log, info, warning, error, debug, exception, ...
	Text string    // as DevTools shows it; may hold page data, redact before writing
	Time time.Time // as the browser reports it
	URL  string    // where it came from (redacted), may be empty
}

// NetworkEntry is one request of the tab, HAR-like but without headers or
// bodies. Query and fragment parameters that carry secrets are redacted.
type NetworkEntry struct {
	RequestID    string
	Method       string
	URL          string // redacted, see RedactURL
	ResourceType string // Document, Fetch, XHR, Script, ...
	Status       int    // 0 when no response arrived
	MimeType     string
	Started      time.Time
	Ended        time.Time // zero while in flight
	Failure      string    // Chromium's error text (net::ERR_...) or why it was blocked; empty on success
	Canceled     bool
	Blocked      string // Chromium's blocked reason, e.g. "inspector" for BlockURLs
	CORSError    string // e.g. "MissingAllowOriginHeader"
	Redirected   bool   // answered with a redirect; the next entry follows it
}

// InFlight reports whether the request has neither finished nor failed.
func (e NetworkEntry) InFlight() bool { return e.Ended.IsZero() }

// recorder keeps a tab's console and network log. The chromedp listener
// only appends under the mutex; it never runs a command.
type recorder struct {
	mu      sync.Mutex
	console []ConsoleEntry
	network []NetworkEntry
	byID    map[network.RequestID]int // index of the current entry of a request
	offset  map[network.RequestID]float64
}

func newRecorder() *recorder {
	return &recorder{byID: map[network.RequestID]int{}, offset: map[network.RequestID]float64{}}
}

// start subscribes on the tab's context; both stop when the tab closes.
func (r *recorder) start(tctx context.Context) error {
	messages := chromedp.Console(tctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			r.mu.Lock()
			r.console = append(r.console, ConsoleEntry{
				Type: string(m.Type), Text: m.Text, Time: m.Time, URL: RedactURL(m.URL),
			})
			r.mu.Unlock()
		}
	}()
	if err := chromedp.Listen(tctx, r.onEvent); err != nil {
		return fmt.Errorf("browser: recording the network log: %w", err)
	}
	return nil
}

// onEvent runs on chromedp's reader goroutine: record and return.
func (r *recorder) onEvent(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		// Monotonic timestamps of later events convert to wall time with
		// the offset learnt here.
		off := float64(ev.WallTime) - float64(ev.Timestamp)
		r.offset[ev.RequestID] = off
		if i, ok := r.byID[ev.RequestID]; ok && ev.RedirectResponse != nil {
			e := &r.network[i]
			e.Status = int(ev.RedirectResponse.Status)
			e.MimeType = ev.RedirectResponse.MimeType
			e.Ended = wall(off, ev.Timestamp)
			e.Redirected = true
		}
		if ev.Request == nil {
			return
		}
		r.network = append(r.network, NetworkEntry{
			RequestID:    string(ev.RequestID),
			Method:       ev.Request.Method,
			URL:          RedactURL(ev.Request.URL + ev.Request.URLFragment),
			ResourceType: string(ev.Type),
			Started:      wall(off, ev.Timestamp),
		})
		r.byID[ev.RequestID] = len(r.network) - 1
	case *network.EventResponseReceived:
		if i, ok := r.byID[ev.RequestID]; ok && ev.Response != nil {
			r.network[i].Status = int(ev.Response.Status)
			r.network[i].MimeType = ev.Response.MimeType
		}
	case *network.EventLoadingFinished:
		if i, ok := r.byID[ev.RequestID]; ok {
			r.network[i].Ended = wall(r.offset[ev.RequestID], ev.Timestamp)
		}
	case *network.EventLoadingFailed:
		if i, ok := r.byID[ev.RequestID]; ok {
			e := &r.network[i]
			e.Ended = wall(r.offset[ev.RequestID], ev.Timestamp)
			e.Failure = ev.ErrorText
			e.Canceled = ev.Canceled
			e.Blocked = string(ev.BlockedReason)
			if ev.CorsErrorStatus != nil {
				e.CORSError = string(ev.CorsErrorStatus.CorsError)
			}
			// Chromium leaves the text empty for requests it blocked itself;
			// a failed entry always says why.
			if e.Failure == "" {
				switch {
				case e.Blocked != "":
					e.Failure = "blocked (" + e.Blocked + ")"
				case e.CORSError != "":
					e.Failure = "CORS (" + e.CORSError + ")"
				case e.Canceled:
					e.Failure = "canceled"
				default:
					e.Failure = "failed"
				}
			}
		}
	}
}

func wall(offset float64, ts cdp.MonotonicTime) time.Time {
	sec := offset + float64(ts)
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(frac*1e9))
}

func (r *recorder) consoleEntries() []ConsoleEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ConsoleEntry(nil), r.console...)
}

func (r *recorder) networkEntries() []NetworkEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]NetworkEntry(nil), r.network...)
}

// SecretParams are the query and fragment parameters RedactURL hides.
var SecretParams = []string{
	"code", "state", "access_token", "refresh_token", "id_token", "id_token_hint",
	"code_verifier", "client_secret", "session_state",
}

// Redacted replaces a secret value.
const Redacted = "REDACTED"

// RedactURL hides the values of SecretParams in the query and the fragment of
// u, keeping the names so a reader still sees that a code or state was there.
func RedactURL(u string) string {
	rest, frag, hasFrag := strings.Cut(u, "#")
	base, query, hasQuery := strings.Cut(rest, "?")
	out := base
	if hasQuery {
		out += "?" + redactParams(query)
	}
	if hasFrag {
		out += "#" + redactParams(frag)
	}
	return out
}

// redactParams rewrites "a=1&code=x" keeping order and unknown parameters
// byte for byte.
func redactParams(raw string) string {
	if raw == "" {
		return raw
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		key, err := url.QueryUnescape(name)
		if err != nil {
			key = name
		}
		for _, s := range SecretParams {
			if strings.EqualFold(key, s) && hasValue {
				parts[i] = name + "=" + Redacted
				break
			}
		}
	}
	return strings.Join(parts, "&")
}
