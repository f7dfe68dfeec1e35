package redact

import (
	"regexp"
	"strings"
)

// credentialKeys are the query, form and JSON keys whose values are
// credentials. Keys are matched case-sensitively, as OAuth defines them, so
// that Ginkgo's "State" or a UI's "Code" column are left alone.
var credentialKeys = []string{
	"code", "state", "access_token", "refresh_token", "id_token", "id_token_hint",
	"code_verifier", "client_secret", "password", "session_id", "session_state",
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
	// code=..., &state=..., logfmt password=...; the leading character is
	// captured so "error_code=" or "x.state=" do not match ("\u0026" is a
	// JSON-escaped "&").
	paramRE = regexp.MustCompile(`(^|[^A-Za-z0-9_.-]|\\u0026)(` + keys + `)=([^&\s"'#;,<>\[\\][^&\s"'#;,<>\\]*)`)
	// "access_token": "..."
	jsonKeyRE = regexp.MustCompile(`"(` + keys + `)"(\s*:\s*)"((?:[^"\\]|\\.)*)"`)
	// HAR-like {"name": "code", "value": "..."} and {"name": "Cookie", "value": "..."}
	harPairRE = regexp.MustCompile(`"name"\s*:\s*"(` + keys + `|(?i:` + headerNames + `))"(\s*,\s*"value"\s*:\s*)"((?:[^"\\]|\\.)*)"`)
	// Authorization: Bearer ... on a line of an HTTP dump or log
	headerLineRE = regexp.MustCompile(`(?im)^([ \t]*[<>]?[ \t]*)(` + headerNames + `)([ \t]*:[ \t]*)([^\r\n]*)`)
	// "Authorization": "Bearer ..." as a JSON key
	headerJSONRE = regexp.MustCompile(`"(?i)(` + headerNames + `)"(\s*:\s*)"((?:[^"\\]|\\.)*)"`)
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
		return replaceSubmatch(headerJSONRE, s, func(m []string) string {
			return `"` + m[1] + `"` + m[2] + `"` + r.redactHeader(m[1], m[3]) + `"`
		})
	},
	func(r *Redactor, s string) string {
		return replaceSubmatch(jsonKeyRE, s, func(m []string) string {
			return `"` + m[1] + `"` + m[2] + `"` + r.redactParam(m[1], m[3]) + `"`
		})
	},
	func(r *Redactor, s string) string {
		return replaceSubmatch(paramRE, s, func(m []string) string {
			return m[1] + m[2] + "=" + r.redactParam(m[2], m[3])
		})
	},
	func(r *Redactor, s string) string {
		return jwtRE.ReplaceAllStringFunc(s, func(tok string) string { return r.Marker("jwt", tok) })
	},
}

// replaceSubmatch is ReplaceAllStringFunc with the submatches at hand.
func replaceSubmatch(re *regexp.Regexp, s string, f func(m []string) string) string {
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
		b.WriteString(f(m))
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func isMarker(v string) bool {
	return strings.HasPrefix(v, "[REDACTED:") || strings.HasPrefix(v, "[MASKED:")
}

// redactNamed redacts the value of a HAR name/value pair.
func (r *Redactor) redactNamed(name, value string) string {
	if headerSet[strings.ToLower(name)] && !isParam(name) {
		return r.redactHeader(name, value)
	}
	return r.redactParam(name, value)
}

func isParam(name string) bool {
	for _, k := range credentialKeys {
		if k == name {
			return true
		}
	}
	return false
}

func (r *Redactor) redactParam(key, value string) string {
	if value == "" || isMarker(value) {
		return value
	}
	if (key == "code" || key == "state") && wordValue.MatchString(value) {
		return value
	}
	return r.Marker(key, value)
}

// redactHeader redacts a credential header's value, keeping what a reader
// needs: the Authorization scheme, cookie names and Set-Cookie attributes.
func (r *Redactor) redactHeader(name, value string) string {
	if value == "" || isMarker(value) {
		return value
	}
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
