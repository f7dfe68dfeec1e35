// Package redact removes secrets from text before anything is written or
// printed: JWTs, OAuth parameters that carry credentials (code, state, nonce,
// tokens, code_verifier, client_secret, password), cookies, Authorization
// headers, and every exact value the harness registers at run time with Add
// (each token it sees issued). Parameters and headers are recognised in
// queries, forms, logfmt and slog text (quoted values too), JSON and HAR
// pairs, also as the last component of a grouped key: slog's
// "oidc_error.state=...", JSON's "oidc_error.state", a form's
// "oidc_error[state]". A redacted value becomes a marker such as
// "[REDACTED:jwt hmac:ab12cd]": the short keyed hash lets a reader see that two
// redactions hid the same value, without any way to recover it.
//
// DecodeClaims turns a JWT into its decoded header and claims, signature
// dropped and identifier claims (jti, sid, nonce, at_hash, ...) masked, for
// token timelines.
//
// Import rule: standard library only. Plain Go, no Ginkgo.
package redact
