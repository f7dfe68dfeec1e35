package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// RedactJSON redacts a JSON document by its structure, then every string in
// it by Redact, and returns it indented. Structure catches what text rules
// cannot see: credential keys at any depth, HAR name/value pairs for
// credential parameters and headers, and every value in a "cookies" list.
// Numbers are kept exact. Invalid JSON is an error; callers fall back to
// Redact on the text.
func (r *Redactor) RedactJSON(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("redact: not JSON: %w", err)
	}
	return r.marshal(r.RedactValue(v))
}

// RedactValue redacts a value decoded from JSON (maps, slices, strings,
// numbers) the way RedactJSON does and returns the redacted copy.
func (r *Redactor) RedactValue(v any) any {
	return r.walk(v, "")
}

func (r *Redactor) walk(v any, parentKey string) any {
	switch t := v.(type) {
	case string:
		return r.Redact(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = r.walk(e, parentKey)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		name, _ := t["name"].(string)
		for k, e := range t {
			rk := r.Redact(k)
			s, isString := e.(string)
			switch {
			case isString && isParam(k):
				out[rk] = r.redactParam(k, s)
			case isString && isHeader(k):
				out[rk] = r.redactHeader(k, s)
			case isString && k == "value" && (isParam(name) || isHeader(name)):
				out[rk] = r.redactNamed(name, s)
			case isString && k == "value" && strings.EqualFold(parentKey, "cookies") && s != "" && !isMarker(s):
				out[rk] = r.Marker("cookie", s)
			default:
				out[rk] = r.walk(e, k)
				continue
			}
			out[rk] = r.Redact(out[rk].(string)) // registered secrets inside a kept value
		}
		return out
	default:
		return v
	}
}

func (r *Redactor) marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
