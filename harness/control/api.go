package control

import (
	"context"
	"net/http"
	"time"
)

// Paths of the API control plane: docs/control-api.md, "API", served by
// fixtures/api (control.go).
const (
	apiPathRestart     = "/restart"
	apiPathJWKSCache   = "/jwks-cache"
	apiPathTokenPolicy = "/token-policy"
)

// API is a client for the reference API's control plane. It is safe for
// concurrent use.
type API struct{ base }

// NewAPI returns a client for the API control plane at baseURL (e.g.
// "http://127.0.0.1:4712"). hc nil means a client with a 15 s timeout.
func NewAPI(baseURL string, hc *http.Client) *API { return &API{newBase(baseURL, hc)} }

// JWKSCache is the state of the API's key-set cache.
type JWKSCache struct {
	// Kids are the key ids in the cached key set (empty when cold).
	Kids []string `json:"kids"`
	// Fetches counts JWKS fetch attempts since start or restart.
	Fetches int `json:"fetches"`
	// FetchFailures counts the attempts that failed.
	FetchFailures int `json:"fetch_failures"`
	// LastFetch is when the last attempt started (nil if none).
	LastFetch *time.Time `json:"last_fetch"`
	// LastError is the last attempt's error ("" if it succeeded).
	LastError string `json:"last_error"`
	// KeySetFetchedAt is when the cached key set was fetched (nil when cold).
	KeySetFetchedAt *time.Time `json:"key_set_fetched_at"`
}

// Restart drops the API's JWKS cache, leaving it cold as after a restart, and
// returns the cache state after the change.
func (a *API) Restart(ctx context.Context) (JWKSCache, error) {
	var out JWKSCache
	err := a.do(ctx, http.MethodPost, apiPathRestart, nil, &out)
	return out, err
}

// SetExpectedIssuer makes the API require issuer as the iss of every later
// access token ("" restores the configured one) and returns the issuer now
// expected.
func (a *API) SetExpectedIssuer(ctx context.Context, issuer string) (string, error) {
	var out struct {
		Issuer string `json:"issuer"`
	}
	err := a.do(ctx, http.MethodPost, apiPathTokenPolicy, map[string]string{"issuer": issuer}, &out)
	return out.Issuer, err
}

// JWKSCache reads the state of the API's JWKS cache.
func (a *API) JWKSCache(ctx context.Context) (JWKSCache, error) {
	var out JWKSCache
	err := a.do(ctx, http.MethodGet, apiPathJWKSCache, nil, &out)
	return out, err
}
