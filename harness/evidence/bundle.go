package evidence

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"rehearsal/harness/redact"
)

// The files of a bundle. Screenshots are named "screenshot-NN-<phase>.png".
const (
	FileManifest = "manifest.json"
	FileDOM      = "dom.html"
	FileConsole  = "console.json"
	FileNetwork  = "network.har.json"
	FileCounters = "counters.json"
	FileFaults   = "faults.json"
	FileASLog    = "logs-as.jsonl"
	FileAPILog   = "logs-api.jsonl"
	FileTokens   = "tokens.json"
	FileControl  = "control.json"
	FileRepro    = "repro.txt"
)

// Manifest lists a bundle's files in the order they were first written.
type Manifest struct {
	ID      string         `json:"id"`
	Attempt int            `json:"attempt"`
	Created time.Time      `json:"created"`
	Files   []ManifestFile `json:"files"`
}

// ManifestFile is one file of a bundle. Name is relative to the bundle folder.
type ManifestFile struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`            // "screenshot", "json" or "text"
	Phase string `json:"phase,omitempty"` // screenshots only
	Bytes int    `json:"bytes"`
}

// FaultEvent is one fault in faults.json: what was injected where, and when
// it was applied and removed (Removed is nil while it is still active).
type FaultEvent struct {
	Layer   string         `json:"layer"` // network, http, browser, control
	Link    string         `json:"link,omitempty"`
	Name    string         `json:"name"`
	Params  map[string]any `json:"params,omitempty"`
	Applied time.Time      `json:"applied"`
	Removed *time.Time     `json:"removed,omitempty"`
}

// ControlAction is one control-plane action in control.json.
type ControlAction struct {
	Time   time.Time      `json:"time"`
	Target string         `json:"target"` // as, api
	Action string         `json:"action"`
	Params map[string]any `json:"params,omitempty"`
	Error  string         `json:"error,omitempty"`
}

// TokenEvent is one entry of the token timeline in tokens.json. It never
// holds the raw token: Fingerprint is the redaction marker of the raw value,
// so the same token can be recognised elsewhere in the bundle.
type TokenEvent struct {
	Time        time.Time      `json:"time"`
	Kind        string         `json:"kind"`   // access_token, id_token, refresh_token
	Source      string         `json:"source"` // e.g. "token response (refresh_token grant)", "session storage"
	Fingerprint string         `json:"fingerprint"`
	Header      map[string]any `json:"header,omitempty"`
	Claims      map[string]any `json:"claims,omitempty"`
	Opaque      bool           `json:"opaque,omitempty"` // not a JWT: only the fingerprint is kept
}

// Bundle is the evidence folder of one spec attempt. It is safe for
// concurrent use.
type Bundle struct {
	dir     string
	r       *redact.Redactor
	mu      sync.Mutex
	man     Manifest
	shots   int
	tokens  []TokenEvent
	written map[string]int // name -> index in man.Files
}

// New creates dir/<id>/attempt-<attempt>/ (id made safe for a file name),
// emptied of anything an earlier run wrote there, and returns its bundle. The redactor is required: it is what keeps secrets out.
func New(dir, id string, attempt int, r *redact.Redactor) (*Bundle, error) {
	if r == nil {
		return nil, errors.New("evidence: a redactor is required (redact.New()), evidence is never written unredacted")
	}
	if attempt < 1 {
		return nil, fmt.Errorf("evidence: attempt %d: attempts count from 1 (Ginkgo's NumAttempts)", attempt)
	}
	safeID := SafeName(r, id)
	b := &Bundle{
		dir:     filepath.Join(dir, safeID, fmt.Sprintf("attempt-%d", attempt)),
		r:       r,
		man:     Manifest{ID: safeID, Attempt: attempt, Created: time.Now().UTC(), Files: []ManifestFile{}},
		written: map[string]int{},
	}
	// A bundle holds one run's attempt: files an earlier run of the same
	// spec left there would be mistaken for this one's.
	if err := os.RemoveAll(b.dir); err != nil {
		return nil, fmt.Errorf("evidence: clear the earlier run's bundle folder: %w", err)
	}
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		return nil, fmt.Errorf("evidence: create bundle folder: %w", err)
	}
	if err := b.writeManifest(); err != nil {
		return nil, err
	}
	return b, nil
}

// Dir is the bundle's folder.
func (b *Bundle) Dir() string { return b.dir }

// Redactor is the redactor every write goes through; register secrets the
// bundle should know about with its Add.
func (b *Bundle) Redactor() *redact.Redactor { return b.r }

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// SafeName turns s into a file name: secrets redacted, then every run of
// characters outside [A-Za-z0-9._-] made one "_", no leading ".", "_" or "-", at most
// 100 bytes. An empty result becomes "unnamed".
func SafeName(r *redact.Redactor, s string) string {
	s = unsafeChars.ReplaceAllString(r.Redact(s), "_")
	s = strings.TrimLeft(s, "._-")
	if len(s) > 100 {
		s = s[:100]
	}
	s = strings.TrimRight(s, "_")
	if s == "" {
		return "unnamed"
	}
	return s
}

// AddScreenshot writes a PNG screenshot for a phase ("steady-state",
// "after-inject", "failure", ...) and returns its path. Screenshots are
// numbered in the order taken.
func (b *Bundle) AddScreenshot(phase string, png []byte) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.shots++
	safePhase := SafeName(b.r, phase)
	name := fmt.Sprintf("screenshot-%02d-%s.png", b.shots, safePhase)
	return b.write(name, png, ManifestFile{Kind: "screenshot", Phase: safePhase})
}

// WriteJSON writes v as indented JSON, redacted by structure and by text
// (redact.RedactJSON), and returns the file's path. To write JSON you already
// have as bytes (a HAR from the browser), pass json.RawMessage.
func (b *Bundle) WriteJSON(name string, v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("evidence: encode %s: %w", name, err)
	}
	out, err := b.r.RedactJSON(raw)
	if err != nil {
		return "", fmt.Errorf("evidence: redact %s: %w", name, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.write(SafeName(b.r, name), out, ManifestFile{Kind: "json"})
}

// WriteText writes s, redacted, and returns the file's path. Use it for
// dom.html, the JSONL logs and repro.txt.
func (b *Bundle) WriteText(name, s string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.write(SafeName(b.r, name), []byte(b.r.Redact(s)), ManifestFile{Kind: "text"})
}

// WriteRepro writes the one-line repro command to repro.txt.
func (b *Bundle) WriteRepro(command string) (string, error) {
	return b.WriteText(FileRepro, strings.TrimSpace(command)+"\n")
}

// AddToken registers a raw token with the redactor, adds its decoded header
// and claims (identifiers masked, see redact.DecodeClaims) to the token
// timeline, and rewrites tokens.json. Opaque tokens (refresh tokens, as a
// rule) are recorded by fingerprint only.
func (b *Bundle) AddToken(at time.Time, kind, source, raw string) error {
	b.r.Add(raw)
	ev := TokenEvent{Time: at.UTC(), Kind: kind, Source: source, Fingerprint: b.r.Marker(kind, raw)}
	if h, c, err := redact.DecodeClaims(raw); err == nil {
		ev.Header, ev.Claims = h, c
	} else {
		ev.Opaque = true
	}
	b.mu.Lock()
	b.tokens = append(b.tokens, ev)
	timeline := append([]TokenEvent(nil), b.tokens...)
	b.mu.Unlock()
	_, err := b.WriteJSON(FileTokens, timeline)
	return err
}

// Files returns the paths of the bundle's files, manifest.json first, then
// in the order they were first written.
func (b *Bundle) Files() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []string{filepath.Join(b.dir, FileManifest)}
	for _, f := range b.man.Files {
		out = append(out, filepath.Join(b.dir, f.Name))
	}
	return out
}

// write stores data under name (already safe) and updates the manifest.
// The caller holds b.mu.
func (b *Bundle) write(name string, data []byte, entry ManifestFile) (string, error) {
	if name == FileManifest {
		return "", fmt.Errorf("evidence: %s is written by the bundle itself", FileManifest)
	}
	path := filepath.Join(b.dir, name)
	if err := writeFileAtomic(path, data); err != nil {
		return "", fmt.Errorf("evidence: write %s: %w", name, err)
	}
	entry.Name, entry.Bytes = name, len(data)
	if i, ok := b.written[name]; ok {
		b.man.Files[i] = entry
	} else {
		b.written[name] = len(b.man.Files)
		b.man.Files = append(b.man.Files, entry)
	}
	if err := b.writeManifest(); err != nil {
		return "", err
	}
	return path, nil
}

func (b *Bundle) writeManifest() error {
	data, err := json.MarshalIndent(b.man, "", "  ")
	if err != nil {
		return fmt.Errorf("evidence: encode manifest: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(b.dir, FileManifest), append(data, '\n')); err != nil {
		return fmt.Errorf("evidence: write manifest: %w", err)
	}
	return nil
}

// writeFileAtomic writes through a temporary file and a rename, so a reader
// (or an interrupted run) never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
