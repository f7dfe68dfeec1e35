package redact

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// credentialKeys are the query, form and JSON keys whose values are
// credentials. Keys are matched case-sensitively, as OAuth defines them, so
// that Ginkgo's "State" or a UI's "Code" column are left alone. A grouped key
// whose last component is one of them is a credential key too (see
// credentialName): slog's "oidc_error.state", a form's "oidc_error[state]".
var credentialKeys = []string{
	"code", "state", "nonce", "access_token", "refresh_token", "id_token", "id_token_hint",
	"code_verifier", "client_secret", "password", "session_id", "session_state",
}

// lastComponent returns the last component of a grouped key: "state" for
// slog groups ("oidc_error.state", "a.b.state") and bracketed form keys
// ("oidc_error[state]"), the key itself if it is not grouped.
func lastComponent(key string) string {
	name := strings.TrimSuffix(key, "]")
	if i := strings.LastIndexAny(name, ".["); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// credentialName returns the credential key that key names ("state" for
// "state", "oidc_error.state" or "oidc_error[state]"), and whether it names
// one. Every rule and the JSON walk decide through it.
func credentialName(key string) (string, bool) {
	name := lastComponent(key)
	return name, slices.Contains(credentialKeys, name)
}

// headerName is credentialName for credential headers, matched
// case-insensitively ("Authorization", "req.header.cookie").
func headerName(key string) (string, bool) {
	name := lastComponent(key)
	return name, headerSet[strings.ToLower(name)]
}

// wordValue matches the values of code and state that are plainly not
// secrets: the API's error codes ("invalid_token") and UI states
// ("signed-in"). Authorization codes and state values are random strings with
// digits or capitals, and the harness registers the issued ones with Add.
var wordValue = regexp.MustCompile(`^[a-z][a-z_-]{0,31}$`)

// headerNames are the HTTP headers whose values are credentials.
const headerNames = `authorization|proxy-authorization|cookie|set-cookie`

var (
	jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*){2,4}`)

	keys = strings.Join(credentialKeys, "|")
	// secretKey is a credential key or header (headers case-insensitively),
	// or the last component of a grouped one ("state]" of
	// "oidc_error[state]"). What it finds, credentialName or headerName
	// accepts.
	secretKey = `(?:` + keys + `|(?i:` + headerNames + `))\]?`
	// keyStart is the character before a key or its last component: not a
	// key character, or a group separator ("." or "["), so "error_code=" and
	// "x-state=" do not match but "oidc_error.state=" does, its group prefix
	// left in place ("\u0026" is a JSON-escaped "&").
	keyStart = `(\\u0026|^|[^A-Za-z0-9_-])`
	// code=..., &state=..., form oidc_error[state]=..., logfmt and slog text
	// password=..., oidc_error.state="..." or req.header.cookie="sid=...":
	// a Go-quoted value on one line, not starting with a space (m[3]), or a
	// bare one, which stops where a query, form or log value ends (m[4]).
	paramRE = regexp.MustCompile(keyStart + `(` + secretKey + `)=(?:"((?:[^"\\\s]|\\.)(?:[^"\\\n]|\\.)*)"|([^&\s"'#;,<>\[\\][^&\s"'#;,<>\\]*))`)
	// groupedKey is a whole key, group prefix included, in a JSON string.
	groupedKey = `(?:[A-Za-z0-9_-]*[.\[])*` + secretKey
	// "access_token": "...", "oidc_error.state": "...", "Authorization": "Bearer ..."
	jsonKeyRE = regexp.MustCompile(`"(` + groupedKey + `)"(\s*:\s*)"((?:[^"\\]|\\.)*)"`)
	// HAR-like {"name": "code", "value": "..."} and {"name": "Cookie", "value": "..."}
	harPairRE = regexp.MustCompile(`"name"\s*:\s*"(` + groupedKey + `)"(\s*,\s*"value"\s*:\s*)"((?:[^"\\]|\\.)*)"`)
	// Authorization: Bearer ... on a line of an HTTP dump or log
	headerLineRE = regexp.MustCompile(`(?im)^([ \t]*[<>]?[ \t]*)(` + headerNames + `)([ \t]*:[ \t]*)([^\r\n]*)`)
)

var headerSet = map[string]bool{"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true}

// cookieAttributes are the Set-Cookie attributes, which carry no secret.
var cookieAttributes = map[string]bool{
	"path": true, "domain": true, "expires": true, "max-age": true, "samesite": true,
	"secure": true, "httponly": true, "partitioned": true, "priority": true,
}

type rule func(r *Redactor, s string) string

// rules run in order after the registered secrets are replaced. Header rules
// come before the JWT rule so a bearer token is labelled by where it was.
var rules = []rule{
	// HAR pairs first: their "value" must not be taken for a JSON key rule.
	func(r *Redactor, s string) string {
		return replaceSubmatch(harPairRE, s, func(m []string) string {
			return `"name":"` + m[1] + `"` + m[2] + `"` + r.redactNamed(m[1], m[3]) + `"`
		})
	},
	func(r *Redactor, s string) string {
		return replaceSubmatch(headerLineRE, s, func(m []string) string {
			return m[1] + m[2] + m[3] + r.redactHeader(m[2], m[4])
		})
	},
	func(r *Redactor, s string) string {
		return replaceSubmatch(jsonKeyRE, s, func(m []string) string {
			return `"` + m[1] + `"` + m[2] + `"` + r.redactNamed(m[1], m[3]) + `"`
		})
	},
	func(r *Redactor, s string) string {
		return replaceSubmatchFollowed(paramRE, s, func(m []string, after string) string {
			if m[3] == "" {
				return m[1] + m[2] + "=" + r.redactNamed(m[2], m[4])
			}
			// A quoted value ends its attribute. In JSON text, "x state=","
			// is the end of one string and the start of another.
			if after != "" && !strings.ContainsRune(" \t\r\n&;,", rune(after[0])) {
				return m[0]
			}
			// A quoted value is redacted unquoted, so it gets the marker the
			// same value gets elsewhere, and stays quoted.
			v := m[3]
			if u, err := strconv.Unquote(`"` + v + `"`); err == nil {
				v = u
			}
			if red := r.redactNamed(m[2], v); red != v {
				return m[1] + m[2] + `="` + red + `"`
			}
			return m[0]
		})
	},
	func(r *Redactor, s string) string {
		return jwtRE.ReplaceAllStringFunc(s, func(tok string) string { return r.Marker("jwt", tok) })
	},
}

// replaceSubmatch is ReplaceAllStringFunc with the submatches at hand.
func replaceSubmatch(re *regexp.Regexp, s string, f func(m []string) string) string {
	return replaceSubmatchFollowed(re, s, func(m []string, _ string) string { return f(m) })
}

// replaceSubmatchFollowed is replaceSubmatch that also shows f the text
// after the match.
func replaceSubmatchFollowed(re *regexp.Regexp, s string, f func(m []string, after string) string) string {
	idx := re.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range idx {
		m := make([]string, len(loc)/2)
		for i := range m {
			if loc[2*i] >= 0 {
				m[i] = s[loc[2*i]:loc[2*i+1]]
			}
		}
		b.WriteString(s[last:loc[0]])
		b.WriteString(f(m, s[loc[1]:]))
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func isMarker(v string) bool {
	return strings.HasPrefix(v, "[REDACTED:") || strings.HasPrefix(v, "[MASKED:")
}

// redactNamed redacts the value of a credential key or header, alone or
// grouped, or of a HAR name/value pair naming one.
func (r *Redactor) redactNamed(name, value string) string {
	if isHeader(name) && !isParam(name) {
		return r.redactHeader(name, value)
	}
	return r.redactParam(name, value)
}

func isParam(key string) bool {
	_, ok := credentialName(key)
	return ok
}

func isHeader(key string) bool {
	_, ok := headerName(key)
	return ok
}

// redactParam redacts the value of a credential key, grouped or not; the
// marker is labelled with the credential's name ("state" for
// "oidc_error.state"), so it matches the bare key's marker for that value.
func (r *Redactor) redactParam(key, value string) string {
	if value == "" || isMarker(value) {
		return value
	}
	name, _ := credentialName(key)
	if (name == "code" || name == "state") && wordValue.MatchString(value) {
		return value
	}
	return r.Marker(name, value)
}

// redactHeader redacts a credential header's value, keeping what a reader
// needs: the Authorization scheme, cookie names and Set-Cookie attributes.
// key is the header's name, alone or grouped ("req.header.cookie").
func (r *Redactor) redactHeader(key, value string) string {
	if value == "" || isMarker(value) {
		return value
	}
	name, _ := headerName(key)
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization":
		if scheme, cred, ok := strings.Cut(value, " "); ok && isScheme(scheme) {
			cred = strings.TrimLeft(cred, " ")
			if cred == "" || isMarker(cred) {
				return value
			}
			return scheme + " " + r.Marker("authorization", cred)
		}
		return r.Marker("authorization", value)
	default: // cookie, set-cookie
		setCookie := strings.EqualFold(name, "set-cookie")
		parts := strings.Split(value, ";")
		for i, part := range parts {
			trimmed := strings.TrimLeft(part, " ")
			lead := part[:len(part)-len(trimmed)]
			k, v, ok := strings.Cut(trimmed, "=")
			if setCookie && i > 0 && cookieAttributes[strings.ToLower(strings.TrimSpace(k))] {
				continue
			}
			if !ok {
				if !setCookie && trimmed != "" && !isMarker(trimmed) { // a bare value
					parts[i] = lead + r.Marker("cookie", trimmed)
				}
				continue
			}
			if v != "" && !isMarker(v) {
				parts[i] = lead + k + "=" + r.Marker("cookie", v)
			}
		}
		return strings.Join(parts, ";")
	}
}

func isScheme(s string) bool {
	switch strings.ToLower(s) {
	case "bearer", "basic", "dpop", "digest", "negotiate", "mac":
		return true
	}
	return false
}
