package evidence

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rehearsal/harness/redact"
)

func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","kid":"key-2","typ":"at+jwt"}`)) + "." + enc([]byte(claims)) + ".c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
}

// TestBundleNeverWritesIssuedValues writes a full bundle from inputs full of
// raw credentials and then scans every file, and every file name, for them.
func TestBundleNeverWritesIssuedValues(t *testing.T) {
	access := jwt(`{"iss":"http://login.rehearsal.test","sub":"alice","aud":"rehearsal-api","exp":1796306400,"jti":"jti-0001-secret","sid":"sid-abcdef-secret","scope":"openid api:read"}`)
	refresh := "rt_9f8e7d6c5b4a3210fedcba"
	code := "SplxlOBeZQQYbYS6WxSbIA"
	cookie := "c2Vzc2lvbi1jb29raWUtdmFsdWU"
	raw := []string{access, refresh, code, cookie, "jti-0001-secret", "sid-abcdef-secret", "c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"}

	r := redact.New()
	r.Add(code) // the harness registers every code and token it sees issued
	root := t.TempDir()
	b, err := New(root, "TOK-01_as-down", 2, r)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	if err := b.AddToken(now, "access_token", "token response (authorization_code)", access); err != nil {
		t.Fatal(err)
	}
	if err := b.AddToken(now, "refresh_token", "token response (authorization_code)", refresh); err != nil {
		t.Fatal(err)
	}
	// From here on the raw values appear in ordinary evidence, as they would.
	must := func(_ string, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.AddScreenshot("after inject", []byte("\x89PNG fake")))
	must(b.AddScreenshot("failure/"+refresh, []byte("\x89PNG fake")))
	must(b.WriteText(FileDOM, `<div data-testid="user">alice</div><script>sessionStorage["oidc.user"]='{"access_token":"`+access+`","refresh_token":"`+refresh+`"}'</script>`))
	must(b.WriteJSON(FileConsole, []map[string]any{{"level": "error", "text": "refresh failed for " + refresh}}))
	har := `{"log":{"entries":[{"request":{"method":"POST","url":"http://login.rehearsal.test/oauth/token",
		"headers":[{"name":"Cookie","value":"sess=` + cookie + `"}],"postData":{"text":"grant_type=authorization_code&code=` + code + `"}},
		"response":{"status":200,"content":{"text":"{\"access_token\":\"` + access + `\",\"refresh_token\":\"` + refresh + `\"}"}}}]}}`
	must(b.WriteJSON(FileNetwork, json.RawMessage(har)))
	must(b.WriteJSON(FileCounters, map[string]int{"as:/oauth/token[refresh_token]": 1, "api:/companies": 3}))
	removed := now.Add(5 * time.Second)
	must(b.WriteJSON(FileFaults, []FaultEvent{{Layer: "network", Link: "as", Name: "reset_peer", Applied: now, Removed: &removed}}))
	must(b.WriteText(FileASLog, `{"msg":"token issued","refresh_token":"`+refresh+`"}`+"\n"))
	must(b.WriteText(FileAPILog, `{"msg":"request","authorization":"Bearer `+access+`"}`+"\n"))
	must(b.WriteJSON(FileControl, []ControlAction{{Time: now, Target: "as", Action: "rotate-keys"}}))
	must(b.WriteRepro(`ginkgo --focus="TOK-01" --seed=4242 ./suites/baseline`))
	must(b.WriteText("notes-"+code+".txt", "named after a code"))

	if want := filepath.Join(root, "TOK-01_as-down", "attempt-2"); b.Dir() != want {
		t.Errorf("bundle folder %s, want %s", b.Dir(), want)
	}
	files := b.Files()
	if len(files) != 14 {
		t.Errorf("expected 14 files (manifest + 13), got %d: %v", len(files), files)
	}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, v := range raw {
			if strings.Contains(path, v) {
				t.Errorf("file name %s holds a raw value", path)
			}
			if strings.Contains(string(data), v) {
				t.Errorf("%s holds raw value %.20s...:\n%s", filepath.Base(path), v, data)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The timeline is readable back, with claims but no raw token.
	tokens, err := ReadTokens(b.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 2 || tokens[0].Claims["sub"] != "alice" || tokens[0].Header["kid"] != "key-2" || !tokens[1].Opaque {
		t.Errorf("token timeline wrong: %+v", tokens)
	}
	if !strings.HasPrefix(tokens[0].Fingerprint, "[REDACTED:access_token hmac:") {
		t.Errorf("fingerprint %q", tokens[0].Fingerprint)
	}
	faults, err := ReadFaults(b.Dir())
	if err != nil || len(faults) != 1 || faults[0].Removed == nil || !faults[0].Removed.Equal(removed) {
		t.Errorf("faults round trip: %+v %v", faults, err)
	}
	repro, _ := ReadRepro(b.Dir())
	if repro != `ginkgo --focus="TOK-01" --seed=4242 ./suites/baseline` {
		t.Errorf("repro %q", repro)
	}
	man, err := ReadManifest(b.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if man.ID != "TOK-01_as-down" || man.Attempt != 2 || len(man.Files) != 13 {
		t.Errorf("manifest %+v", man)
	}
	if man.Files[0].Name != FileTokens || man.Files[1].Name != "screenshot-01-after_inject.png" || man.Files[1].Phase != "after_inject" {
		t.Errorf("manifest order or names: %+v", man.Files[:2])
	}
	// Rewriting a file (tokens.json twice) keeps one manifest entry.
	seen := map[string]bool{}
	for _, f := range man.Files {
		if seen[f.Name] {
			t.Errorf("duplicate manifest entry %s", f.Name)
		}
		seen[f.Name] = true
	}
}

func TestSafeName(t *testing.T) {
	r := redact.New()
	r.Add("registered-token-value")
	for in, want := range map[string]string{
		"TOK-01_as-down":                 "TOK-01_as-down",
		"../../etc/passwd":               "etc_passwd",
		"keeps signed in / reset":        "keeps_signed_in_reset",
		"":                               "unnamed",
		"...":                            "unnamed",
		"x registered-token-value y":     "x_REDACTED_secret_hmac_",
		"code=SplxlOBeZQQYbYS6WxSbIA":    "code_REDACTED_code_hmac_",
		strings.Repeat("a", 300) + ".js": strings.Repeat("a", 100),
	} {
		got := SafeName(r, in)
		if !strings.HasPrefix(got, want) || strings.ContainsAny(got, "/\\ :[]") {
			t.Errorf("SafeName(%q) = %q, want prefix %q", in, got, want)
		}
	}
}

func TestNewRejectsMissingRedactorAndBadAttempt(t *testing.T) {
	if _, err := New(t.TempDir(), "X-1", 1, nil); err == nil {
		t.Error("a bundle without a redactor must be refused")
	}
	if _, err := New(t.TempDir(), "X-1", 0, redact.New()); err == nil {
		t.Error("attempt 0 must be refused")
	}
}

func TestNewBundleHoldsOnlyThisRunsFiles(t *testing.T) {
	dir := t.TempDir()
	first, err := New(dir, "LGN-01", 1, redact.New())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.WriteText("screenshot-03-failure-main.txt", "earlier run"); err != nil {
		t.Fatal(err)
	}
	again, err := New(dir, "LGN-01", 1, redact.New())
	if err != nil {
		t.Fatal(err)
	}
	if again.Dir() != first.Dir() {
		t.Fatalf("the same spec and attempt got another folder: %s vs %s", again.Dir(), first.Dir())
	}
	entries, err := os.ReadDir(again.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "manifest.json" {
			t.Errorf("%s from the earlier run is still in the new bundle", e.Name())
		}
	}
}
