package browser

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chromedp/chromedp"
)

// The storage helpers work on the current page's origin through
// Runtime.evaluate, as the page's own code would: navigate to the SPA first.

// LocalStorage returns every localStorage item of the current origin.
func (t *Tab) LocalStorage(ctx context.Context) (map[string]string, error) {
	m, err := RunValue(ctx, t, chromedp.Evaluate[map[string]string](`(() => {
  const out = {};
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    out[k] = localStorage.getItem(k);
  }
  return out;
})()`))
	if err != nil {
		return nil, fmt.Errorf("browser: reading localStorage: %w", err)
	}
	return m, nil
}

// GetLocalStorage returns one item; ok is false when it is absent.
func (t *Tab) GetLocalStorage(ctx context.Context, key string) (value string, ok bool, err error) {
	v, err := RunValue(ctx, t, chromedp.Evaluate[*string](`localStorage.getItem(`+jsString(key)+`)`))
	if err != nil {
		return "", false, fmt.Errorf("browser: reading localStorage[%q]: %w", key, err)
	}
	if v == nil {
		return "", false, nil
	}
	return *v, true, nil
}

// SetLocalStorage sets one item. Other tabs of the session get a storage
// event, as when the page itself writes.
func (t *Tab) SetLocalStorage(ctx context.Context, key, value string) error {
	if err := t.Run(ctx, chromedp.Evaluate[chromedp.Void](`localStorage.setItem(`+jsString(key)+`, `+jsString(value)+`)`)); err != nil {
		return fmt.Errorf("browser: writing localStorage[%q]: %w", key, err)
	}
	return nil
}

// RemoveLocalStorage removes one item (no error when it is absent).
func (t *Tab) RemoveLocalStorage(ctx context.Context, key string) error {
	if err := t.Run(ctx, chromedp.Evaluate[chromedp.Void](`localStorage.removeItem(`+jsString(key)+`)`)); err != nil {
		return fmt.Errorf("browser: removing localStorage[%q]: %w", key, err)
	}
	return nil
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// StoredUser is what oidc-client-ts keeps under "oidc.user:<authority>:<client_id>".
type StoredUser struct {
	Storage      string // "localStorage" or "sessionStorage"
	Key          string
	AccessToken  string
	RefreshToken string
	IDToken      string
	ExpiresAt    int64 // seconds since the epoch, as oidc-client-ts stores it
}

// tokenTamper finds the first "oidc.user:" item in localStorage, then
// sessionStorage (oidc-client-ts's default store), applies op to the parsed
// user and writes it back. It returns the user before the change.
const tokenTamper = `((op) => {
  for (const name of ["localStorage", "sessionStorage"]) {
    const store = globalThis[name];
    for (let i = 0; i < store.length; i++) {
      const key = store.key(i);
      if (!key.startsWith("oidc.user:")) continue;
      const user = JSON.parse(store.getItem(key));
      const before = {Storage: name, Key: key, AccessToken: user.access_token || "",
        RefreshToken: user.refresh_token || "", IDToken: user.id_token || "", ExpiresAt: user.expires_at || 0};
      switch (op) {
        case "read": break;
        case "expire-at": user.access_token = (user.access_token || "") + "x"; user.expires_at = Math.floor(Date.now() / 1000) - 60; break;
        case "corrupt-at": user.access_token = (user.access_token || "") + "A"; break;
        case "corrupt-rt": user.refresh_token = (user.refresh_token || "") + "A"; break;
        case "remove-rt": delete user.refresh_token; break;
        default: throw new Error("unknown token operation " + op);
      }
      if (op !== "read") store.setItem(key, JSON.stringify(user));
      return before;
    }
  }
  return null;
})(%s)`

func (t *Tab) tamperUser(ctx context.Context, op string) (StoredUser, error) {
	u, err := RunValue(ctx, t, chromedp.Evaluate[*StoredUser](fmt.Sprintf(tokenTamper, jsString(op))))
	if err != nil {
		return StoredUser{}, fmt.Errorf("browser: token storage (%s): %w", op, err)
	}
	if u == nil {
		loc, _ := t.URL(ctx)
		return StoredUser{}, fmt.Errorf("browser: token storage (%s): no oidc-client-ts user (key oidc.user:...) in localStorage or sessionStorage of %s; sign in and wait for the signed-in state first", op, RedactURL(loc))
	}
	return *u, nil
}

// StoredUser reads the signed-in user oidc-client-ts stored (tokens are
// secrets: never log them).
func (t *Tab) StoredUser(ctx context.Context) (StoredUser, error) {
	return t.tamperUser(ctx, "read")
}

// ExpireStoredAccessToken does what the SPA's own "Expire access token"
// rehearsal button does: it sets the stored expires_at in the past and spoils
// the token's signature, so the API answers 401 as it would to an expired one.
func (t *Tab) ExpireStoredAccessToken(ctx context.Context) error {
	_, err := t.tamperUser(ctx, "expire-at")
	return err
}

// CorruptStoredAccessToken appends a character to the stored access token, so
// its signature no longer verifies and the API answers 401 invalid_token.
func (t *Tab) CorruptStoredAccessToken(ctx context.Context) error {
	_, err := t.tamperUser(ctx, "corrupt-at")
	return err
}

// CorruptStoredRefreshToken appends a character to the stored refresh token,
// so the AS answers the next refresh with invalid_grant.
func (t *Tab) CorruptStoredRefreshToken(ctx context.Context) error {
	_, err := t.tamperUser(ctx, "corrupt-rt")
	return err
}

// RemoveStoredRefreshToken deletes the stored refresh token, leaving the rest
// of the session.
func (t *Tab) RemoveStoredRefreshToken(ctx context.Context) error {
	_, err := t.tamperUser(ctx, "remove-rt")
	return err
}
