package control

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Paths of the AS control plane: docs/control-api.md, "Authorization server",
// served by fixtures/authserver (control.go).
const (
	asPathKeys          = "/keys"
	asPathPublishKey    = "/keys/publish"
	asPathActivateKey   = "/keys/activate"
	asPathRetireKey     = "/keys/retire"
	asPathRotateNow     = "/keys/rotate-now"
	asPathCacheControl  = "/keys/cache-control"
	asPathRestart       = "/restart"
	asPathLifetimes     = "/lifetimes"
	asPathRefreshPolicy = "/refresh-policy"
	asPathRevokeUser    = "/sessions/revoke"
	asPathRevokeAll     = "/sessions/revoke-all"
	asPathNextAuthz     = "/next-authorization"
	asPathTokenPolicy   = "/token-policy"
	asPathMint          = "/mint"
)

// Key states as the AS reports them.
const (
	KeyNext      = "next"      // published in the JWKS, not yet signing
	KeyActive    = "active"    // signing new tokens, published
	KeyPublished = "published" // no longer signing, still published
	KeyRetired   = "retired"   // removed from the JWKS
)

// AS is a client for the reference authorization server's control plane.
// It is safe for concurrent use.
type AS struct{ base }

// NewAS returns a client for the AS control plane at baseURL (e.g.
// "http://127.0.0.1:4711"). hc nil means a client with a 15 s timeout.
func NewAS(baseURL string, hc *http.Client) *AS { return &AS{newBase(baseURL, hc)} }

// KeyInfo is one signing key.
type KeyInfo struct {
	KID   string `json:"kid"`
	Alg   string `json:"alg"`
	State string `json:"state"` // KeyNext, KeyActive, KeyPublished or KeyRetired
}

// KeySet is the AS's keys and the max-age the JWKS is served with.
type KeySet struct {
	// Keys are every key the AS holds, retired ones included, oldest first.
	Keys []KeyInfo
	// CacheMaxAge is the Cache-Control max-age of the JWKS answer.
	CacheMaxAge time.Duration
}

// Active returns the signing key (ok false if there is none).
func (ks KeySet) Active() (KeyInfo, bool) {
	for _, k := range ks.Keys {
		if k.State == KeyActive {
			return k, true
		}
	}
	return KeyInfo{}, false
}

// Published returns the kids served in the JWKS (every state but retired).
func (ks KeySet) Published() []string {
	var out []string
	for _, k := range ks.Keys {
		if k.State != KeyRetired {
			out = append(out, k.KID)
		}
	}
	return out
}

func (a *AS) keySet(ctx context.Context, method, path string, in any) (KeySet, error) {
	var w struct {
		Keys        []KeyInfo `json:"keys"`
		CacheMaxAge string    `json:"cache_max_age"`
	}
	if err := a.do(ctx, method, path, in, &w); err != nil {
		return KeySet{}, err
	}
	maxAge, err := parseDuration(method+" "+a.url+path, "cache_max_age", w.CacheMaxAge)
	if err != nil {
		return KeySet{}, err
	}
	if w.Keys == nil {
		w.Keys = []KeyInfo{}
	}
	return KeySet{Keys: w.Keys, CacheMaxAge: maxAge}, nil
}

// Keys lists every key the AS holds and the JWKS max-age.
func (a *AS) Keys(ctx context.Context) (KeySet, error) {
	return a.keySet(ctx, http.MethodGet, asPathKeys, nil)
}

// PublishKey adds a new key to the JWKS in the "next" state (published, not
// signing yet) and returns its kid. It fails with 409 if a next key exists.
func (a *AS) PublishKey(ctx context.Context) (string, error) {
	return a.kidCall(ctx, asPathPublishKey, nil)
}

// ActivateKey makes the "next" key the signing key; the old one stays
// published. It returns the new signing kid, or fails with 409 if no key is
// published as next.
func (a *AS) ActivateKey(ctx context.Context) (string, error) {
	return a.kidCall(ctx, asPathActivateKey, nil)
}

// RotateNow is an emergency rotation: a new key is published and signs at
// once. removeOld also retires every other key. It returns the new kid.
func (a *AS) RotateNow(ctx context.Context, removeOld bool) (string, error) {
	return a.kidCall(ctx, asPathRotateNow, map[string]bool{"remove_old": removeOld})
}

func (a *AS) kidCall(ctx context.Context, path string, in any) (string, error) {
	return a.postForString(ctx, path, in, "kid")
}

// postForString POSTs in and returns the non-empty string field of the answer.
func (a *AS) postForString(ctx context.Context, path string, in any, field string) (string, error) {
	var out map[string]any
	if err := a.do(ctx, http.MethodPost, path, in, &out); err != nil {
		return "", err
	}
	v, _ := out[field].(string)
	if v == "" {
		return "", fmt.Errorf("control: POST %s%s answered without a %q", a.url, path, field)
	}
	return v, nil
}

// RetireKey removes the key kid from the JWKS; kid "" retires every key that
// is not signing. It returns the kids retired. Retiring the signing key fails
// with 409.
func (a *AS) RetireKey(ctx context.Context, kid string) ([]string, error) {
	var out struct {
		Retired []string `json:"retired"`
	}
	if err := a.do(ctx, http.MethodPost, asPathRetireKey, map[string]string{"kid": kid}, &out); err != nil {
		return nil, err
	}
	return out.Retired, nil
}

// SetJWKSCacheMaxAge sets the Cache-Control max-age the JWKS is served with
// (0 allowed) and returns the key set after the change.
func (a *AS) SetJWKSCacheMaxAge(ctx context.Context, maxAge time.Duration) (KeySet, error) {
	return a.keySet(ctx, http.MethodPut, asPathCacheControl, map[string]string{"max_age": durationString(maxAge)})
}

// Restart makes the AS forget every grant, code and session and start over
// with one fresh signing key, as an in-memory server does after a restart.
// It returns the new key set.
func (a *AS) Restart(ctx context.Context) (KeySet, error) {
	return a.keySet(ctx, http.MethodPost, asPathRestart, nil)
}

// Lifetimes are the AS's token lifetimes. In SetLifetimes a zero field is
// left unchanged.
type Lifetimes struct {
	AccessToken     time.Duration // also the ID token lifetime
	RefreshIdle     time.Duration
	RefreshAbsolute time.Duration // also the AS browser session lifetime
}

type wireLifetimes struct {
	AccessToken     string `json:"access_token,omitempty"`
	RefreshIdle     string `json:"refresh_idle,omitempty"`
	RefreshAbsolute string `json:"refresh_absolute,omitempty"`
}

func (w wireLifetimes) lifetimes(endpoint string) (Lifetimes, error) {
	var l Lifetimes
	var err error
	if l.AccessToken, err = parseDuration(endpoint, "access_token", w.AccessToken); err != nil {
		return l, err
	}
	if l.RefreshIdle, err = parseDuration(endpoint, "refresh_idle", w.RefreshIdle); err != nil {
		return l, err
	}
	l.RefreshAbsolute, err = parseDuration(endpoint, "refresh_absolute", w.RefreshAbsolute)
	return l, err
}

// Lifetimes reads the AS's token lifetimes.
func (a *AS) Lifetimes(ctx context.Context) (Lifetimes, error) {
	var w wireLifetimes
	if err := a.do(ctx, http.MethodGet, asPathLifetimes, nil, &w); err != nil {
		return Lifetimes{}, err
	}
	return w.lifetimes("GET " + a.url + asPathLifetimes)
}

// SetLifetimes changes the non-zero lifetimes in l and returns all of them
// after the change. Tokens already issued keep their expiry.
func (a *AS) SetLifetimes(ctx context.Context, l Lifetimes) (Lifetimes, error) {
	in := wireLifetimes{}
	if l.AccessToken != 0 {
		in.AccessToken = durationString(l.AccessToken)
	}
	if l.RefreshIdle != 0 {
		in.RefreshIdle = durationString(l.RefreshIdle)
	}
	if l.RefreshAbsolute != 0 {
		in.RefreshAbsolute = durationString(l.RefreshAbsolute)
	}
	var w wireLifetimes
	if err := a.do(ctx, http.MethodPut, asPathLifetimes, in, &w); err != nil {
		return Lifetimes{}, err
	}
	return w.lifetimes("PUT " + a.url + asPathLifetimes)
}

// RefreshPolicy is how the AS treats refresh tokens.
type RefreshPolicy struct {
	Rotation       bool          // a new refresh token on every refresh
	ReuseDetection bool          // a superseded token presented again revokes the grant
	Grace          time.Duration // the just-superseded token may be reused this long
}

type wirePolicy struct {
	Rotation       bool   `json:"rotation"`
	ReuseDetection bool   `json:"reuse_detection"`
	Grace          string `json:"grace"`
}

// RefreshPolicy reads the AS's refresh-token policy.
func (a *AS) RefreshPolicy(ctx context.Context) (RefreshPolicy, error) {
	return a.policy(ctx, http.MethodGet, nil)
}

// SetRefreshPolicy replaces the refresh-token policy and returns it as the AS
// now applies it.
func (a *AS) SetRefreshPolicy(ctx context.Context, p RefreshPolicy) (RefreshPolicy, error) {
	return a.policy(ctx, http.MethodPut, wirePolicy{Rotation: p.Rotation, ReuseDetection: p.ReuseDetection, Grace: durationString(p.Grace)})
}

func (a *AS) policy(ctx context.Context, method string, in any) (RefreshPolicy, error) {
	var w wirePolicy
	if err := a.do(ctx, method, asPathRefreshPolicy, in, &w); err != nil {
		return RefreshPolicy{}, err
	}
	grace, err := parseDuration(method+" "+a.url+asPathRefreshPolicy, "grace", w.Grace)
	if err != nil {
		return RefreshPolicy{}, err
	}
	return RefreshPolicy{Rotation: w.Rotation, ReuseDetection: w.ReuseDetection, Grace: grace}, nil
}

// Revoked counts what a revocation ended.
type Revoked struct {
	Grants   int `json:"grants_revoked"`
	Sessions int `json:"sessions_ended"`
}

// RevokeSessions ends every grant (refresh tokens) and AS browser session of
// the test user ("alice" or "bob"). Access tokens already issued stay valid
// until they expire.
func (a *AS) RevokeSessions(ctx context.Context, user string) (Revoked, error) {
	if user == "" {
		return Revoked{}, fmt.Errorf("control: RevokeSessions needs a user name; use RevokeAll to end everyone's sessions")
	}
	var out Revoked
	err := a.do(ctx, http.MethodPost, asPathRevokeUser, map[string]string{"user": user}, &out)
	return out, err
}

// RevokeAll ends every grant and AS browser session of every user.
func (a *AS) RevokeAll(ctx context.Context) (Revoked, error) {
	var out Revoked
	err := a.do(ctx, http.MethodPost, asPathRevokeAll, nil, &out)
	return out, err
}

// NextAuthorization says how the next completed authorization ends instead of
// issuing a code as usual. Set Error (e.g. "access_denied", "invalid_scope")
// to answer the client with that error and the genuine state; or GrantScope
// to grant a different scope than requested (e.g. "openid profile
// offline_access" to leave out the API scope).
type NextAuthorization struct {
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
	GrantScope       string `json:"grant_scope,omitempty"`
}

// SetNextAuthorization arms the outcome of the next completed authorization.
func (a *AS) SetNextAuthorization(ctx context.Context, next NextAuthorization) error {
	if next.Error == "" && next.GrantScope == "" {
		return fmt.Errorf("control: SetNextAuthorization needs an Error or a GrantScope; an empty outcome would change nothing")
	}
	return a.do(ctx, http.MethodPost, asPathNextAuthz, next, nil)
}

// SetTokenAudience makes the AS put aud in the access tokens it issues from
// now on; "" restores the configured audience (normally "rehearsal-api").
// It returns the audience now in force.
func (a *AS) SetTokenAudience(ctx context.Context, aud string) (string, error) {
	var out struct {
		Audience string `json:"audience"`
	}
	if err := a.do(ctx, http.MethodPost, asPathTokenPolicy, map[string]string{"audience": aud}, &out); err != nil {
		return "", err
	}
	return out.Audience, nil
}

// MintRequest asks the AS for a token it would never issue on its own, to
// rehearse how the API treats it.
type MintRequest struct {
	// Kind is "access" (the default) or "id".
	Kind string `json:"kind,omitempty"`
	// Claims override the usual claims; a nil value deletes the claim.
	Claims map[string]any `json:"claims,omitempty"`
	// Header overrides header fields; a nil value deletes the field
	// ("kid": nil drops the kid). The algorithm is set with Alg.
	Header map[string]any `json:"header,omitempty"`
	// Alg is "RS256" (the default), "none" or "HS256-with-public-key".
	Alg string `json:"alg,omitempty"`
	// Key is "active" (the default) or "foreign" (an unpublished key under
	// the active kid).
	Key string `json:"key,omitempty"`
	// User is a test user name (default "alice").
	User string `json:"user,omitempty"`
}

// Mint returns a token built as req asks, signed by the AS.
func (a *AS) Mint(ctx context.Context, req MintRequest) (string, error) {
	return a.postForString(ctx, asPathMint, req, "token")
}
