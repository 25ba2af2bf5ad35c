package wshttp

import (
	"net/http"
	"testing"
)

func TestParseUpgradeRequest(t *testing.T) {
	const fields = "Host: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	r := new(http.Request)
	if !ParseUpgradeRequest([]byte("GET /chat?room=1 HTTP/1.1\r\n"+fields+"X-Many: a\r\nx-many:  b\t\r\n"), r) {
		t.Fatal("a plain upgrade was not taken")
	}
	if r.Method != "GET" || r.URL.Path != "/chat" || r.URL.RawQuery != "room=1" || r.Host != "example.com" ||
		r.Header.Get("Host") != "" || len(r.Header["X-Many"]) != 2 || r.Header["X-Many"][1] != "b" || r.Close {
		t.Errorf("parsed as %s %q host %q, header %q, close %v", r.Method, r.URL, r.Host, r.Header, r.Close)
	}
	for name, head := range map[string]string{
		"not GET":              "POST / HTTP/1.1\r\n" + fields,
		"HTTP/1.0":             "GET / HTTP/1.0\r\n" + fields,
		"absolute target":      "GET http://example.com/ HTTP/1.1\r\n" + fields,
		"space in target":      "GET /a b HTTP/1.1\r\n" + fields,
		"no upgrade":           "GET / HTTP/1.1\r\nHost: x\r\n",
		"upgrade to another":   "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n",
		"no host":              "GET / HTTP/1.1\r\nUpgrade: websocket\r\n",
		"two hosts":            "GET / HTTP/1.1\r\n" + fields + "Host: other\r\n",
		"odd host":             "GET / HTTP/1.1\r\nHost: a/b\r\nUpgrade: websocket\r\n",
		"a body":               "GET / HTTP/1.1\r\n" + fields + "Content-Length: 3\r\n",
		"chunked":              "GET / HTTP/1.1\r\n" + fields + "Transfer-Encoding: chunked\r\n",
		"folded field":         "GET / HTTP/1.1\r\n" + fields + "X-A: 1\r\n 2\r\n",
		"space before colon":   "GET / HTTP/1.1\r\n" + fields + "X-A : 1\r\n",
		"control in value":     "GET / HTTP/1.1\r\n" + fields + "X-A: 1\x002\r\n",
		"bare LF":              "GET / HTTP/1.1\r\n" + fields + "X-A: 1\nX-B: 2\r\n",
		"unterminated field":   "GET / HTTP/1.1\r\n" + fields + "X-A: 1",
		"eight-bit in a value": "GET / HTTP/1.1\r\n" + fields + "X-A: caf\xc3\xa9\r\n",
	} {
		if ParseUpgradeRequest([]byte(head), new(http.Request)) {
			t.Errorf("%s: taken, want it left to net/http", name)
		}
	}
}

// TestHandshakeAllocations holds the server's side of a handshake to what it
// allocates: the request parsed into a caller's value costs its URL, the
// field block, the field values' array and the header map; the answer's
// key, the key's check and the lookups of the handshake's fields by their
// RFC 6455 spelling cost nothing.
func TestHandshakeAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates more")
	}
	head := []byte("GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
	var r http.Request
	if !ParseUpgradeRequest(head, &r) {
		t.Fatal("ParseUpgradeRequest refused the request")
	}
	for _, tt := range []struct {
		name string
		max  float64
		f    func()
	}{
		{"ParseUpgradeRequest", 6, func() { ParseUpgradeRequest(head, &r) }},
		{"AppendAcceptKey", 0, func() {
			var b [32]byte
			if string(AppendAcceptKey(b[:0], "dGhlIHNhbXBsZSBub25jZQ==")) != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
				t.Error("AppendAcceptKey: wrong answer")
			}
		}},
		{"validKey", 0, func() { validKey("dGhlIHNhbXBsZSBub25jZQ==") }},
		{"Field", 0, func() { Field(r.Header, "Sec-WebSocket-Key") }},
		{"HasToken", 0, func() { HasToken(r.Header, "Connection", "upgrade") }},
	} {
		if got := testing.AllocsPerRun(100, tt.f); got > tt.max {
			t.Errorf("%s: %.0f allocations, want at most %.0f", tt.name, got, tt.max)
		}
	}
}
