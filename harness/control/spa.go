package control

import (
	"context"
	"net/http"
)

// Paths of the SPA host's control plane: docs/control-api.md, "SPA host",
// served by fixtures/spa (spa.go).
const spaPathConfig = "/config"

// SPA is a client for the SPA host's control plane: its log, request counts
// and defects, and the scope /config.json gives page loads (the SPA host has
// no clock: the clock methods get 404). It is safe for concurrent use.
type SPA struct{ base }

// NewSPA returns a client for the SPA host's control plane at baseURL (e.g.
// "http://127.0.0.1:4713"). hc nil means a client with a 15 s timeout.
func NewSPA(baseURL string, hc *http.Client) *SPA { return &SPA{newBase(baseURL, hc)} }

// SetScope makes the SPA ask for scope (space-separated) from its next page
// load on; a page already loaded keeps the scope it read.
func (s *SPA) SetScope(ctx context.Context, scope string) error {
	return s.do(ctx, http.MethodPut, spaPathConfig, map[string]string{"scope": scope}, nil)
}

// ResetConfig restores the scope the SPA host was configured with.
func (s *SPA) ResetConfig(ctx context.Context) error {
	return s.do(ctx, http.MethodDelete, spaPathConfig, nil, nil)
}
