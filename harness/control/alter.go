package control

import (
	"context"
	"fmt"
	"net/http"
)

// Paths of the AS's one-shot misbehaviour (docs/control-api.md,
// "Authorization server"; fixtures/authserver/alter.go).
const (
	asPathIDTokenPolicy  = "/id-token-policy"
	asPathUserinfoPolicy = "/userinfo-policy"
	asPathEndSessions    = "/sessions/end"
)

// When an IDTokenAlteration applies.
const (
	DuringSignIn  = "sign_in" // the code exchange
	DuringRefresh = "refresh" // a refresh-token grant
)

// How an IDTokenAlteration signs the token.
const (
	SignAlgNone    = "alg_none"    // unsigned, header alg "none"
	SignForeignKey = "foreign_key" // an unpublished key under the active kid
)

// IDTokenAlteration changes the next ID token the AS issues at During, once.
type IDTokenAlteration struct {
	// During is DuringSignIn or DuringRefresh.
	During string `json:"during"`
	// Set replaces or adds claims.
	Set map[string]any `json:"set,omitempty"`
	// Remove leaves claims out.
	Remove []string `json:"remove,omitempty"`
	// Sign is "" (the active key), SignAlgNone or SignForeignKey.
	Sign string `json:"sign,omitempty"`
}

// AlterNextIDToken arms a one-shot change to the next ID token issued at
// alt.During, for rehearsing how the relying party refuses it.
func (a *AS) AlterNextIDToken(ctx context.Context, alt IDTokenAlteration) error {
	if alt.During != DuringSignIn && alt.During != DuringRefresh {
		return fmt.Errorf("control: AlterNextIDToken needs During %q or %q, got %q", DuringSignIn, DuringRefresh, alt.During)
	}
	return a.do(ctx, http.MethodPost, asPathIDTokenPolicy, alt, nil)
}

// AlterNextUserinfo makes the next userinfo answer claim subject sub (a test
// user name) whatever the access token says, once.
func (a *AS) AlterNextUserinfo(ctx context.Context, sub string) error {
	return a.do(ctx, http.MethodPost, asPathUserinfoPolicy, map[string]string{"sub": sub}, nil)
}

// EndBrowserSessions ends the test user's AS browser sessions only: the next
// authorization shows the sign-in form, while grants and refresh tokens keep
// working. It returns how many sessions ended.
func (a *AS) EndBrowserSessions(ctx context.Context, user string) (int, error) {
	if user == "" {
		return 0, fmt.Errorf("control: EndBrowserSessions needs a user name")
	}
	var out struct {
		Ended int `json:"sessions_ended"`
	}
	err := a.do(ctx, http.MethodPost, asPathEndSessions, map[string]string{"user": user}, &out)
	return out.Ended, err
}
