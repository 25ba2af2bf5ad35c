package wshttp

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ raw, want, err string }{
		{"ws://example.com/chat?x=1", "http://example.com/chat?x=1", ""},
		{"wss://example.com:8443/", "https://example.com:8443/", ""},
		{"http://example.com", "http://example.com", ""},
		{"ftp://example.com", "", `has scheme "ftp"`},
		{"ws:///path", "", "has no host"},
		{"ws://example.com/#frag", "", "has a fragment"},
		{"ws://[::1", "", "bad URL"},
	} {
		u, err := ParseURL(tt.raw)
		switch {
		case tt.err == "" && (err != nil || u.String() != tt.want):
			t.Errorf("ParseURL(%q) = %v, %v; want %s", tt.raw, u, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseURL(%q) error %v, want one saying %q", tt.raw, err, tt.err)
		}
	}
}

func TestHostPort(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"http://a.example": "a.example:80", "https://a.example": "a.example:443",
		"https://a.example:1": "a.example:1", "http://[::1]": "[::1]:80",
	} {
		u, _ := url.Parse(raw)
		if got := HostPort(u); got != want {
			t.Errorf("HostPort(%s) = %q, want %q", raw, got, want)
		}
	}
}

func TestRequestNew(t *testing.T) {
	t.Parallel()
	u, _ := ParseURL("ws://example.com/chat")
	o := Request{Header: http.Header{"cookie": {"a=1"}}, Host: "other.example", Origin: "https://page.example", Subprotocols: []string{"a", "b"}, Version: 8}
	req, key, err := o.New(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	h := req.Header
	if req.Host != "other.example" || h.Get("Cookie") != "a=1" || h.Get("Sec-WebSocket-Key") != key || h.Get("Sec-WebSocket-Version") != "8" ||
		h.Get("Sec-WebSocket-Origin") != "https://page.example" || h.Get("Origin") != "" || h.Get("Sec-WebSocket-Protocol") != "a, b" {
		t.Errorf("request to %s: %q", req.Host, h)
	}
	r := httpRequestFor(req)
	if _, _, rf := CheckUpgrade(r, []int{8}); rf != nil {
		t.Errorf("a server refuses the request: %v", rf)
	}
	o = Request{Subprotocols: []string{"a b"}, Version: 13}
	if _, _, err := o.New(context.Background(), u); err == nil || !strings.Contains(err.Error(), `subprotocol "a b" is not a valid token`) {
		t.Errorf("a subprotocol with a space: %v", err)
	}
}

// httpRequestFor returns req as a server reads it.
func httpRequestFor(req *http.Request) *http.Request {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(req.Write(pw)) }()
	r, err := http.ReadRequest(bufio.NewReader(pr))
	if err != nil {
		panic(err)
	}
	return r
}

// answer makes a response to a handshake of key: 101 with the right
// tokens and accept value, then header lines of extra.
func answer(key, extra string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + AcceptKey(key) + "\r\n" + extra + "\r\n"
}

func TestCheckResponse(t *testing.T) {
	t.Parallel()
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	for _, tt := range []struct {
		name, raw, reason string
	}{
		{"valid", answer(key, "Sec-WebSocket-Protocol: a\r\n"), ""},
		{"refused", "HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\n nope", "server answered 403 Forbidden, not 101 Switching Protocols: nope"},
		{"no upgrade", strings.Replace(answer(key, ""), "Upgrade: websocket", "Upgrade: h2c", 1), `Upgrade header "h2c" is not websocket`},
		{"no connection", strings.Replace(answer(key, ""), "Connection: Upgrade", "Connection: keep-alive", 1), `Connection header "keep-alive" lacks upgrade`},
		{"wrong accept", answer("AQIDBAUGBwgJCgsMDQ4PEA==", ""), "Sec-WebSocket-Accept"},
		{"two accepts", answer(key, "Sec-WebSocket-Accept: x\r\n"), "Sec-WebSocket-Accept appears more than once"},
		{"two subprotocols", answer(key, "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n"), "Sec-WebSocket-Protocol appears more than once"},
	} {
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(tt.raw)), nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		rf := CheckResponse(resp, key)
		switch {
		case tt.reason == "" && rf != nil:
			t.Errorf("%s: refused: %v", tt.name, rf)
		case tt.reason != "" && (rf == nil || !strings.Contains(rf.Reason, tt.reason) || rf.Status != resp.StatusCode):
			t.Errorf("%s: %+v, want a refusal saying %q", tt.name, rf, tt.reason)
		}
		if tt.name == "refused" {
			if body, _ := io.ReadAll(resp.Body); string(body) != " nope" {
				t.Errorf("refusal's body after the check: %q", body)
			}
		}
	}
}

func TestAgreedSubprotocol(t *testing.T) {
	t.Parallel()
	offered := []string{"a", "b"}
	for _, tt := range []struct {
		values []string
		want   string
		ok     bool
	}{{nil, "", true}, {[]string{"b"}, "b", true}, {[]string{"c"}, "", false}, {[]string{"a", "a"}, "", false}} {
		got, err := AgreedSubprotocol(http.Header{"Sec-Websocket-Protocol": tt.values}, offered)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("AgreedSubprotocol(%q) = %q, %v", tt.values, got, err)
		}
	}
}

// TestRoundTripBounded checks that a client reads at most 64 KiB of a
// handshake answer, and keeps what follows the answer for the connection.
func TestRoundTripBounded(t *testing.T) {
	t.Parallel()
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	u, _ := ParseURL("ws://example.com/")
	req, _, _ := (&Request{Version: 13}).New(context.Background(), u)
	for _, tt := range []struct {
		name, raw string
		ok        bool
	}{
		{"answer and a frame", answer(key, "") + "\x81\x02hi", true},
		{"endless header", "HTTP/1.1 101 Switching Protocols\r\nX: " + strings.Repeat("x", 70<<10), false},
	} {
		client, server := net.Pipe()
		go func() {
			server.Write([]byte(tt.raw))
			server.Close()
		}()
		go io.Copy(io.Discard, server)
		resp, br, err := RoundTrip(client, req, 4096)
		client.Close()
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if tt.ok {
			if rest, _ := io.ReadAll(br); resp.StatusCode != 101 || string(rest) != "\x81\x02hi" {
				t.Errorf("%s: %s, then %q", tt.name, resp.Status, rest)
			}
		}
	}
}
