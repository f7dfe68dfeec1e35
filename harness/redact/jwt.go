package redact

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// MaskedClaims are the claims DecodeClaims masks: identifiers that would let
// a reader correlate or replay, and hashes of other secrets.
var MaskedClaims = []string{"jti", "sid", "nonce", "at_hash", "c_hash", "s_hash", "sid_hash"}

// DecodeClaims decodes a compact JWS (header.payload.signature) without
// verifying it and returns its header and claims for a token timeline. The
// signature is dropped, and the claims in MaskedClaims become
// "[MASKED:<claim> sha256:<6 hex>]" so two tokens sharing a session id still
// show it. Numbers are kept exact (json.Number). Encrypted tokens (JWE) and
// opaque tokens return an error; never log the raw token instead.
func DecodeClaims(token string) (header, claims map[string]any, err error) {
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("redact: a JWS has 3 dot-separated parts, this token has %d (encrypted or opaque tokens cannot be decoded)", len(parts))
	}
	if header, err = decodeSegment(parts[0]); err != nil {
		return nil, nil, fmt.Errorf("redact: JWT header: %w", err)
	}
	if claims, err = decodeSegment(parts[1]); err != nil {
		return nil, nil, fmt.Errorf("redact: JWT claims: %w", err)
	}
	for _, name := range MaskedClaims {
		if v, ok := claims[name]; ok {
			claims[name] = maskValue(name, v)
		}
	}
	return header, claims, nil
}

func decodeSegment(seg string) (map[string]any, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return nil, fmt.Errorf("not base64url: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("not a JSON object: null")
	}
	return m, nil
}

// maskValue hides an identifier. A plain SHA-256 prefix is enough here: the
// masked claims are random identifiers, not guessable words.
func maskValue(name string, v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return "[MASKED:" + name + " sha256:" + hex.EncodeToString(sum[:])[:6] + "]"
}
