package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A real-shaped access token: header {"alg":"RS256","kid":"k1","typ":"at+jwt"}.
func makeJWT(t testing.TB, claims map[string]any) string {
	t.Helper()
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k1","typ":"at+jwt"}`))
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return h + "." + base64.RawURLEncoding.EncodeToString(c) + ".c2lnbmF0dXJlLWJ5dGVzLW5vdC1yZWFs"
}

var markerRE = regexp.MustCompile(`\[(REDACTED|MASKED):[a-z_-]+ (hmac|sha256):[0-9a-f]{6}\]`)

func TestRedactPatterns(t *testing.T) {
	jwt := makeJWT(t, map[string]any{"sub": "alice", "jti": "0123456789"})
	tests := []struct {
		name     string
		in       string
		gone     []string // must not appear in the output
		kept     []string // must still appear
		wantKind string   // a marker of this kind must appear
	}{
		{"bare JWT", "token " + jwt + " end", []string{jwt, "c2lnbmF0dXJl"}, []string{"token ", " end"}, "jwt"},
		{"authorize redirect query", "GET /callback?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj9&iss=x HTTP/1.1",
			[]string{"SplxlOBeZQQYbYS6WxSbIA", "af0ifjsldkj9"}, []string{"/callback?code=", "&state=", "&iss=x"}, "code"},
		{"token request form", "grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA&client_id=rehearsal-spa&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
			[]string{"tGzv3JOkF0XG5Qx2TlKWIA", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}, []string{"grant_type=refresh_token", "client_id=rehearsal-spa"}, "refresh_token"},
		{"client secret and password", "client_secret=s3cr3t-value password=alice-password",
			[]string{"s3cr3t-value", "alice-password"}, nil, "password"},
		{"json token response", `{"access_token":"opaque-AT-1234567","token_type":"Bearer","refresh_token": "opaque-RT-7654321","id_token":"` + jwt + `"}`,
			[]string{"opaque-AT-1234567", "opaque-RT-7654321", jwt}, []string{`"token_type":"Bearer"`}, "access_token"},
		{"authorization header line", "> Authorization: Bearer abcDEF123456opaque\n< HTTP/1.1 200 OK",
			[]string{"abcDEF123456opaque"}, []string{"Authorization: Bearer [REDACTED:authorization", "HTTP/1.1 200 OK"}, "authorization"},
		{"basic auth json", `{"Authorization":"Basic cmVoZWFyc2FsOnNlY3JldA=="}`,
			[]string{"cmVoZWFyc2FsOnNlY3JldA=="}, []string{`"Authorization":"Basic [REDACTED:authorization`}, "authorization"},
		{"cookie header", "Cookie: sid=Zm9vYmFyYmF6; theme=dark",
			[]string{"Zm9vYmFyYmF6", "dark"}, []string{"sid=[REDACTED:cookie", "theme=[REDACTED:cookie"}, "cookie"},
		{"set-cookie keeps attributes", "Set-Cookie: __Host-sess=abc123XYZ789; Path=/; HttpOnly; SameSite=Lax",
			[]string{"abc123XYZ789"}, []string{"Path=/", "SameSite=Lax", "HttpOnly"}, "cookie"},
		{"HAR header pair", `{"name":"Cookie","value":"sid=Zm9vYmFyYmF6"}`,
			[]string{"Zm9vYmFyYmF6"}, []string{`"name":"Cookie"`}, "cookie"},
		{"HAR query pair", `{"name": "code", "value": "SplxlOBeZQQYbYS6WxSbIA"}`,
			[]string{"SplxlOBeZQQYbYS6WxSbIA"}, nil, "code"},
		{"JSON escaped ampersand in URL", `{"url":"http://app.rehearsal.test/callback?code=Abc123456XYZ\u0026state=Qwe987654RTY"}`,
			[]string{"Abc123456XYZ", "Qwe987654RTY"}, []string{"/callback?code="}, "code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New()
			out := r.Redact(tt.in)
			for _, g := range tt.gone {
				if strings.Contains(out, g) {
					t.Errorf("%q still in output:\n%s", g, out)
				}
			}
			for _, k := range tt.kept {
				if !strings.Contains(out, k) {
					t.Errorf("expected %q to be kept, output:\n%s", k, out)
				}
			}
			if !strings.Contains(out, "[REDACTED:"+tt.wantKind+" hmac:") {
				t.Errorf("expected a %q marker, output:\n%s", tt.wantKind, out)
			}
			if again := r.Redact(out); again != out {
				t.Errorf("not idempotent:\n first %s\nsecond %s", out, again)
			}
		})
	}
}

func TestRedactLeavesOrdinaryTextAlone(t *testing.T) {
	r := New()
	for _, s := range []string{
		`{"code":"invalid_token","message":"the access token is not valid","id":"01JABC"}`,
		`state=signed-in view=companies`,
		`error_code=abc123XYZ789 x-state=Qwe987654RTY state_hint=Qwe987654RTY`,
		`oidc_error.type=invalid_request oidc_error.code=access_denied err.state=signed-in`,
		`oidc_error.State=Qwe987654RTY report.Code=Abc123456XYZ`,
		`{"oidc_error":{"type":"invalid_request","code":"invalid_grant"},"error.code":"server_error"}`,
		`msg="code_challenge=E9Melhoa2OwvFrEMTJguCQaoeK" state= password=""`,
		`msg="retry with state=" next="Qwe987654RTY" {"msg":"sent code=","next":"Abc123456XYZ"}`,
		"{\n  \"msg\": \"sent code=\",\n  \"next\": \"Abc123456XYZ\"\n}",
		`code_challenge=E9Melhoa2OwvFrEMTJguCQaoeK-qOQ8ZKQZ8Ff4p0cM&code_challenge_method=S256`,
		`{"State":"passed","LeafNodeText":"keeps the user signed in"}`,
		`http://login.rehearsal.test/.well-known/openid-configuration`,
	} {
		if out := r.Redact(s); out != s {
			t.Errorf("changed text that holds no secret:\n  in %s\n out %s", s, out)
		}
	}
}

func TestRegisteredSecretsInEveryEncoding(t *testing.T) {
	r := New()
	secret := "opaque/rt+value=with<chars>"
	r.Add(secret)
	r.Add("abc") // too short: ignored, not an error
	for _, in := range []string{
		"plain " + secret,
		"query x=" + url.QueryEscape(secret),
		`{"t":"opaque/rt+value=with\u003cchars\u003e"}`,
	} {
		out := r.Redact(in)
		if strings.Contains(out, "opaque/rt") || strings.Contains(out, "opaque%2Frt") {
			t.Errorf("registered secret leaked: %s", out)
		}
		if !strings.Contains(out, "[REDACTED:secret hmac:") {
			t.Errorf("no secret marker: %s", out)
		}
	}
	if out := r.Redact("abc def"); out != "abc def" {
		t.Errorf("a too-short secret was registered: %s", out)
	}
}

func TestMarkersCompareWithinARunOnly(t *testing.T) {
	r := New()
	a := r.Redact("code=SameValue12345 and code=SameValue12345 but code=OtherValue999")
	ms := markerRE.FindAllString(a, -1)
	if len(ms) != 3 || ms[0] != ms[1] || ms[0] == ms[2] {
		t.Fatalf("same value must give the same marker, different values different ones: %v", ms)
	}
	if b := New().Redact("code=SameValue12345"); strings.Contains(b, ms[0]) {
		t.Errorf("markers must be keyed per redactor, got the same marker from a new one: %s", b)
	}
}

func TestRedactJSONStructure(t *testing.T) {
	r := New()
	doc := `{"log":{"entries":[{"request":{"url":"http://api.rehearsal.test/companies",
	"headers":[{"name":"authorization","value":"Bearer opaqueToken123"}],
	"cookies":[{"name":"theme","value":"d4rk-session-ish"}]},
	"response":{"status":401,"content":{"text":"{\"refresh_token\":\"rt-777777777\"}"},"size":12345678901234567}}]}}`
	out, err := r.RedactJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, g := range []string{"opaqueToken123", "d4rk-session-ish", "rt-777777777"} {
		if strings.Contains(s, g) {
			t.Errorf("%q leaked:\n%s", g, s)
		}
	}
	for _, k := range []string{"http://api.rehearsal.test/companies", "12345678901234567", `"status": 401`} {
		if !strings.Contains(s, k) {
			t.Errorf("%q lost:\n%s", k, s)
		}
	}
	if _, err := r.RedactJSON([]byte("not json")); err == nil {
		t.Error("invalid JSON must be an error")
	}
}

func TestDecodeClaims(t *testing.T) {
	tok := makeJWT(t, map[string]any{
		"iss": "http://login.rehearsal.test", "sub": "alice", "aud": "rehearsal-api",
		"exp": 1796306400, "jti": "d2f1c0ffee", "sid": "session-42", "nonce": "n-0S6_WzA2Mj", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
	})
	h, c, err := DecodeClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	if h["kid"] != "k1" || h["typ"] != "at+jwt" {
		t.Errorf("header not decoded: %v", h)
	}
	if c["sub"] != "alice" || c["exp"].(json.Number).String() != "1796306400" {
		t.Errorf("claims not decoded: %v", c)
	}
	b, _ := json.Marshal(c)
	for _, g := range []string{"d2f1c0ffee", "session-42", "n-0S6_WzA2Mj", "77QmUPtjPfzWtF2AnpK9RQ", "c2lnbmF0dXJl"} {
		if bytes.Contains(b, []byte(g)) {
			t.Errorf("%q not masked: %s", g, b)
		}
	}
	if !markerRE.MatchString(c["sid"].(string)) {
		t.Errorf("sid should be a mask, got %v", c["sid"])
	}
	_, c2, _ := DecodeClaims(makeJWT(t, map[string]any{"sid": "session-42"}))
	if c2["sid"] != c["sid"] {
		t.Errorf("the same sid must mask the same way: %v vs %v", c2["sid"], c["sid"])
	}
	for _, bad := range []string{"", "opaque-token", "a.b.c.d.e", "!!!.e30.sig", "e30.bnVsbA.sig"} {
		if _, _, err := DecodeClaims(bad); err == nil {
			t.Errorf("DecodeClaims(%q) should fail", bad)
		}
	}
}

func TestLineWriter(t *testing.T) {
	r := New()
	r.Add("registered-secret-1")
	var out bytes.Buffer
	w := r.Writer(&out)
	// A secret split across writes is still caught, because lines are whole.
	for _, chunk := range []string{"first line registered-", "secret-1 end\nsecond code=Abc123456XYZ", " tail"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(out.String(), "second") {
		t.Errorf("partial line written before newline: %q", out.String())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Contains(s, "registered-secret-1") || strings.Contains(s, "Abc123456XYZ") || !strings.HasSuffix(s, " tail") {
		t.Errorf("writer output wrong: %q", s)
	}
}

// FuzzRedactNeverLeaksRegistered registers a token-alphabet secret, hides it
// in arbitrary text and checks it is gone. Markers are cut out (replaced by a
// byte no token contains) before the check, so the marker's own letters and
// hash cannot produce a false alarm.
func FuzzRedactNeverLeaksRegistered(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.sig", "Authorization: Bearer ", "\n")
	f.Add("tGzv3JOkF0XG5Qx2TlKWIA", "refresh_token=", "&client_id=x")
	f.Add("abcdefgh", "abcd", "efgh")
	f.Add("aaaaaaa", "aaa", "aaaa")
	f.Add("REDACTED", "[", "]")
	tokenAlphabet := regexp.MustCompile(`^[A-Za-z0-9._~+/=-]+$`)
	f.Fuzz(func(t *testing.T, secret, prefix, suffix string) {
		if len(secret) < MinSecretLen || !tokenAlphabet.MatchString(secret) {
			t.Skip()
		}
		r := New()
		r.Add(secret)
		out := markerRE.ReplaceAllString(r.Redact(prefix+secret+suffix), "\x00")
		if strings.Contains(out, secret) {
			t.Fatalf("secret %q leaked: %q", secret, out)
		}
	})
}

// TestRedactGroupedKeys: a key whose last grouped component (slog groups
// "a.b.state", form arrays "a[state]") is a credential is redacted like the
// bare key, in slog text, logfmt, JSON, HAR pairs and query strings, with
// the marker the bare key gives the same value.
func TestRedactGroupedKeys(t *testing.T) {
	const state = "003343e6fdb2408fb93442c0af9d3f83"
	r := New()
	want := r.Marker("state", state)
	slogLine := `time=2026-05-04T10:00:00.000Z level=WARN msg="authorize request failed" ` +
		`url="http://login.rehearsal.test/authorize?client_id=rehearsal-spa&state=` + state + `" ` +
		`oidc_error.parent=<nil> oidc_error.description="client not allowed" oidc_error.type=invalid_request oidc_error.state=` + state
	out := r.Redact(slogLine)
	if strings.Contains(out, state) {
		t.Errorf("state leaked from a slog text line:\n%s", out)
	}
	if n := strings.Count(out, want); n != 2 {
		t.Errorf("want the URL's and the group's state as the same marker %s twice, got %d:\n%s", want, n, out)
	}
	for _, k := range []string{"oidc_error.state=" + want, "oidc_error.type=invalid_request", `oidc_error.description="client not allowed"`} {
		if !strings.Contains(out, k) {
			t.Errorf("%q not in output:\n%s", k, out)
		}
	}

	secret := "Qwe987654RTYzz"
	for _, in := range []string{
		"err.state=" + secret,
		"a.b.c.state=" + secret + " next=1",
		"oidc_error.state=" + secret + "&iss=x",
		`oidc_error.state="` + secret + ` with space"`,
		`password="` + secret + ` with \"quotes\""`,
		`level=INFO msg=x req.client_secret="` + secret + `=="`,
		"GET /callback?oidc_error[state]=" + secret + "&x=1",
		"POST /token body: grant_type=refresh_token&refresh.refresh_token=" + secret,
		`http://app.rehearsal.test/cb?code=x1\u0026err.code=` + secret,
		`{"oidc_error.state":"` + secret + `"}`,
		`{"oidc_error":{"state":"` + secret + `"}}`,
		`{"token.access_token": "` + secret + `"}`,
		`{"name":"oidc_error.state","value":"` + secret + `"}`,
		"authorize?client_id=x&nonce=" + secret,
		`{"auth.nonce":"` + secret + `"}`,
		`level=INFO req.header.Authorization="Bearer ` + secret + `" status=401`,
		`req.cookie="sid=` + secret + `; theme=dark"`,
		`proxy.proxy-authorization=` + secret,
		`{"http.request.header.authorization":"Bearer ` + secret + `"}`,
	} {
		out := r.Redact(in)
		if strings.Contains(out, "Qwe987654RTY") {
			t.Errorf("secret leaked:\n  in %s\n out %s", in, out)
		}
		if !markerRE.MatchString(out) {
			t.Errorf("no marker:\n  in %s\n out %s", in, out)
		}
		if again := r.Redact(out); again != out {
			t.Errorf("not idempotent:\n first %s\nsecond %s", out, again)
		}
	}
	if out := r.Redact("oidc_error.state=" + state); out != "oidc_error.state="+want {
		t.Errorf("grouped key should keep its name and get the bare key's marker: %s", out)
	}
	if out := r.Redact(`oidc_error.state="` + state + `"`); out != `oidc_error.state="`+want+`"` {
		t.Errorf("quoted value should keep its quotes: %s", out)
	}
	if out := r.Redact(`req.header.Authorization="Bearer ` + secret + `"`); out != `req.header.Authorization="Bearer `+r.Marker("authorization", secret)+`"` {
		t.Errorf("grouped header should keep its scheme and quotes: %s", out)
	}
}

func TestRedactJSONGroupedKeys(t *testing.T) {
	r := New()
	doc := `{"entries":[{"msg":"authorize failed","attrs":{"oidc_error.state":"Qwe987654RTY1","oidc_error":{"state":"Qwe987654RTY2"},
	"err.code":"invalid_grant","http.params":[{"name":"req.code_verifier","value":"Qwe987654RTY3"}],
	"http.request.header.cookie":"sid=Qwe987654RTY4; theme=dark"}}]}`
	out, err := r.RedactJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "Qwe987654RTY") {
		t.Errorf("grouped credential leaked:\n%s", s)
	}
	for _, k := range []string{`"oidc_error.state": "[REDACTED:state hmac:`, `"value": "[REDACTED:code_verifier hmac:`, `"err.code": "invalid_grant"`, `"http.request.header.cookie": "sid=[REDACTED:cookie hmac:`} {
		if !strings.Contains(s, k) {
			t.Errorf("%q not in output:\n%s", k, s)
		}
	}
}
