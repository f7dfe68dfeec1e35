package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Error is an answer from a control plane that was not a success.
type Error struct {
	// Endpoint is the method and URL called, e.g. "POST http://127.0.0.1:4711/keys/retire".
	Endpoint string
	// Status is the HTTP status code received.
	Status int
	// Body is the server's reason (the first 4 KB of the answer, trimmed).
	Body string
}

func (e *Error) Error() string {
	reason := e.Body
	if reason == "" {
		reason = "(empty body)"
	}
	return fmt.Sprintf("control: %s answered %d %s: %s", e.Endpoint, e.Status, http.StatusText(e.Status), reason)
}

// StatusOf returns the HTTP status of a control-plane *Error in err's chain,
// or 0 when err is nil or not such an answer (e.g. a connection failure).
func StatusOf(err error) int {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Status
	}
	return 0
}

// base is what both control planes share: the HTTP plumbing and the clock,
// log, request-count and defect endpoints.
type base struct {
	url string
	hc  *http.Client
}

func newBase(baseURL string, hc *http.Client) base {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return base{url: strings.TrimRight(baseURL, "/"), hc: hc}
}

// BaseURL is the control plane's base URL.
func (b base) BaseURL() string { return b.url }

// do sends in (JSON, unless nil) and decodes a 2xx answer into out (unless nil).
func (b base) do(ctx context.Context, method, path string, in, out any) error {
	endpoint := method + " " + b.url + path
	var body io.Reader
	if in != nil {
		buf, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("control: %s: encode request: %w", endpoint, err)
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.url+path, body)
	if err != nil {
		return fmt.Errorf("control: %s: %w", endpoint, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := b.hc.Do(req)
	if err != nil {
		return fmt.Errorf("control: %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return &Error{Endpoint: endpoint, Status: resp.StatusCode, Body: strings.TrimSpace(string(msg))}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("control: %s: read answer: %w", endpoint, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("control: %s answered %d with a body that is not the expected JSON (%v): %.200s", endpoint, resp.StatusCode, err, raw)
	}
	return nil
}

// ClockState is a fixture clock as its control plane reports it.
type ClockState struct {
	// Now is the clock's current time.
	Now time.Time
	// Offset is how far the clock is from real time.
	Offset time.Duration
}

type wireClock struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"`
}

func (w wireClock) state(endpoint string) (ClockState, error) {
	d, err := time.ParseDuration(w.Offset)
	if err != nil {
		return ClockState{}, fmt.Errorf("control: %s: offset %q is not a Go duration: %w", endpoint, w.Offset, err)
	}
	return ClockState{Now: w.Now, Offset: d}, nil
}

func (b base) clock(ctx context.Context, method, path string, in any) (ClockState, error) {
	var w wireClock
	if err := b.do(ctx, method, path, in, &w); err != nil {
		return ClockState{}, err
	}
	return w.state(method + " " + b.url + path)
}

// Clock reads the server's clock.
func (b base) Clock(ctx context.Context) (ClockState, error) {
	return b.clock(ctx, http.MethodGet, "/clock", nil)
}

// AdvanceClock moves the server's clock by d (negative moves it back) and
// returns the clock after the change.
func (b base) AdvanceClock(ctx context.Context, d time.Duration) (ClockState, error) {
	return b.clock(ctx, http.MethodPost, "/clock/advance", map[string]string{"by": d.String()})
}

// SetClockOffset sets the server's clock to real time plus offset and returns
// the clock after the change.
func (b base) SetClockOffset(ctx context.Context, offset time.Duration) (ClockState, error) {
	return b.clock(ctx, http.MethodPut, "/clock/offset", map[string]string{"offset": offset.String()})
}

// LogEntry is one line of a server's structured log.
type LogEntry struct {
	Time    time.Time      `json:"time"`
	Level   string         `json:"level"`
	Message string         `json:"msg"`
	Attrs   map[string]any `json:"attrs,omitempty"`
}

// Logs returns the server's log lines at or after since (all kept lines when
// since is zero).
func (b base) Logs(ctx context.Context, since time.Time) ([]LogEntry, error) {
	path := "/logs"
	if !since.IsZero() {
		path += "?" + url.Values{"since": {since.UTC().Format(time.RFC3339Nano)}}.Encode()
	}
	var out struct {
		Entries []LogEntry `json:"entries"`
	}
	if err := b.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out.Entries, nil
}

// Requests returns the server's own request counts, keyed "path",
// "path[grant_type]" (a grant request counts under this key only) or
// "OPTIONS path".
func (b base) Requests(ctx context.Context) (map[string]int, error) {
	var out struct {
		Counts map[string]int `json:"counts"`
	}
	if err := b.do(ctx, http.MethodGet, "/requests", nil, &out); err != nil {
		return nil, err
	}
	if out.Counts == nil {
		out.Counts = map[string]int{}
	}
	return out.Counts, nil
}

// ResetRequests sets the server's request counts back to zero.
func (b base) ResetRequests(ctx context.Context) error {
	return b.do(ctx, http.MethodPost, "/requests/reset", nil, nil)
}

// Defects returns the names of the defects the server was started with.
func (b base) Defects(ctx context.Context) ([]string, error) {
	var out struct {
		Defects []string `json:"defects"`
	}
	if err := b.do(ctx, http.MethodGet, "/defects", nil, &out); err != nil {
		return nil, err
	}
	return out.Defects, nil
}

// durationString renders d for the wire; zero stays "0s".
func durationString(d time.Duration) string { return d.String() }

// parseDuration reads a wire duration; "" is zero.
func parseDuration(endpoint, field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("control: %s: %s %q is not a Go duration: %w", endpoint, field, s, err)
	}
	return d, nil
}
