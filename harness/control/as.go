package control

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Paths of the AS control plane. TODO(docs/control-api.md, "Authorization
// server"): that section was still being written when this client was; the
// paths and bodies below follow fixtures/authserver as far as it had landed
// (keys.go names POST /keys/publish and GET /keys; tokens.go names POST /mint)
// and the task text elsewhere. Re-check them against the section.
const (
	asPathKeys          = "/keys"
	asPathPublishKey    = "/keys/publish"
	asPathActivateKey   = "/keys/activate"
	asPathRetireKey     = "/keys/retire"
	asPathRotateNow     = "/keys/rotate-now"
	asPathJWKSMaxAge    = "/jwks/max-age"
	asPathRestart       = "/restart"
	asPathLifetimes     = "/lifetimes"
	asPathRefreshPolicy = "/refresh-policy"
	asPathRevokeSession = "/sessions/revoke"
	asPathNextAuthz     = "/authorizations/next"
	asPathAudience      = "/token-audience"
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

// keysAnswer accepts {"keys":[...]}, a bare list, or one key, because the
// key endpoints answer with the key they touched or the whole set.
type keysAnswer struct {
	Keys    []KeyInfo `json:"keys"`
	Key     *KeyInfo  `json:"key"`
	KeyInfo           // a bare key at the top level
}

func (a *AS) keysCall(ctx context.Context, method, path string, in any) ([]KeyInfo, error) {
	var raw json.RawMessage
	if err := a.do(ctx, method, path, in, &raw); err != nil {
		return nil, err
	}
	endpoint := method + " " + a.url + path
	if len(raw) > 0 && raw[0] == '[' {
		var list []KeyInfo
		if err := decodeRaw(endpoint, raw, &list); err != nil {
			return nil, err
		}
		return list, nil
	}
	var ans keysAnswer
	if err := decodeRaw(endpoint, raw, &ans); err != nil {
		return nil, err
	}
	switch {
	case ans.Keys != nil:
		return ans.Keys, nil
	case ans.Key != nil:
		return []KeyInfo{*ans.Key}, nil
	case ans.KID != "":
		return []KeyInfo{ans.KeyInfo}, nil
	}
	return []KeyInfo{}, nil
}

// Keys lists every key the AS holds, retired ones included.
func (a *AS) Keys(ctx context.Context) ([]KeyInfo, error) {
	return a.keysCall(ctx, http.MethodGet, asPathKeys, nil)
}

// PublishKey adds a new key to the JWKS in the "next" state (not signing yet)
// and returns it.
func (a *AS) PublishKey(ctx context.Context) (KeyInfo, error) {
	return a.oneKey(ctx, asPathPublishKey, nil, KeyNext)
}

// ActivateKey makes the "next" key the signing key; the old one stays
// published. It returns the new signing key.
func (a *AS) ActivateKey(ctx context.Context) (KeyInfo, error) {
	return a.oneKey(ctx, asPathActivateKey, nil, KeyActive)
}

// RotateNow is an emergency rotation: a new key is published and signs at
// once. removeOld also retires every other key. It returns the new key.
func (a *AS) RotateNow(ctx context.Context, removeOld bool) (KeyInfo, error) {
	return a.oneKey(ctx, asPathRotateNow, map[string]bool{"remove_old": removeOld}, KeyActive)
}

// oneKey calls a key endpoint and picks the key it is about: the only one
// returned, or the newest in the wanted state when the whole set comes back.
func (a *AS) oneKey(ctx context.Context, path string, in any, want string) (KeyInfo, error) {
	keys, err := a.keysCall(ctx, http.MethodPost, path, in)
	if err != nil {
		return KeyInfo{}, err
	}
	if len(keys) == 1 {
		return keys[0], nil
	}
	for i := len(keys) - 1; i >= 0; i-- {
		if keys[i].State == want {
			return keys[i], nil
		}
	}
	return KeyInfo{}, fmt.Errorf("control: POST %s%s answered with no key in state %q: %+v", a.url, path, want, keys)
}

// RetireKey removes the key kid from the JWKS; kid "" retires every key that
// is not signing. It returns the kids retired.
func (a *AS) RetireKey(ctx context.Context, kid string) ([]string, error) {
	var out struct {
		Retired []string `json:"retired"`
	}
	if err := a.do(ctx, http.MethodPost, asPathRetireKey, map[string]string{"kid": kid}, &out); err != nil {
		return nil, err
	}
	return out.Retired, nil
}

// SetJWKSCacheMaxAge sets the Cache-Control max-age the JWKS is served with.
func (a *AS) SetJWKSCacheMaxAge(ctx context.Context, maxAge time.Duration) error {
	return a.do(ctx, http.MethodPut, asPathJWKSMaxAge, map[string]string{"max_age": durationString(maxAge)}, nil)
}

// Restart makes the AS forget every grant, code and session and start over
// with a fresh key set, as an in-memory server does after a restart.
func (a *AS) Restart(ctx context.Context) error {
	return a.do(ctx, http.MethodPost, asPathRestart, nil, nil)
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
	Grants   int `json:"grants"`
	Sessions int `json:"sessions"`
}

// RevokeSessions ends every grant (refresh tokens) and AS browser session of
// the user (a test user name such as "alice"). Access tokens already issued
// stay valid until they expire.
func (a *AS) RevokeSessions(ctx context.Context, user string) (Revoked, error) {
	if user == "" {
		return Revoked{}, fmt.Errorf("control: RevokeSessions needs a user name; use RevokeAll to end everyone's sessions")
	}
	return a.revoke(ctx, user)
}

// RevokeAll ends every grant and AS browser session of every user.
func (a *AS) RevokeAll(ctx context.Context) (Revoked, error) { return a.revoke(ctx, "") }

func (a *AS) revoke(ctx context.Context, user string) (Revoked, error) {
	var out Revoked
	err := a.do(ctx, http.MethodPost, asPathRevokeSession, map[string]string{"user": user}, &out)
	return out, err
}

// NextAuthorization says how the next completed authorization ends instead of
// issuing a code as usual. Set Error (e.g. "access_denied", "invalid_scope")
// to answer the client with that error and the genuine state; or GrantScope
// to grant a different scope than requested (e.g. "openid profile" to leave
// out the API scope).
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
// now on (the API expects "rehearsal-api").
func (a *AS) SetTokenAudience(ctx context.Context, aud string) error {
	return a.do(ctx, http.MethodPut, asPathAudience, map[string]string{"audience": aud}, nil)
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
	var out struct {
		Token string `json:"token"`
	}
	if err := a.do(ctx, http.MethodPost, asPathMint, req, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", fmt.Errorf("control: POST %s%s answered without a token", a.url, asPathMint)
	}
	return out.Token, nil
}
