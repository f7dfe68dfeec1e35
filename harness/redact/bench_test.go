package redact

import (
	"strings"
	"testing"
)

// BenchmarkRedactLog measures redacting a 64 KiB log holding JWTs, codes and
// registered opaque secrets among ordinary lines.
func BenchmarkRedactLog(b *testing.B) {
	r := New()
	r.Add("opaque-refresh-token-0123456789")
	line := `{"msg":"issued","at":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVlLTAx","rt":"opaque-refresh-token-0123456789"}` + "\n" +
		"GET /callback?code=abcdef0123456789&state=xyz987654321 200\n" +
		"an ordinary line about companies and transactions, nothing secret here at all\n"
	text := strings.Repeat(line, 64*1024/len(line))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Redact(text)
	}
}
