package main

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/duplexws/websocket"
)

func TestClientAddr(t *testing.T) {
	var trusted prefixFlag
	if err := trusted.Set("127.0.0.1, 10.0.0.0/8,::1"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		remote  string
		header  string   // X-Forwarded-For unless it starts with "Forwarded:"
		values  []string // the header's lines
		trusted prefixFlag
		want    string
	}{
		{"no trusted proxies: the header is not believed", "127.0.0.1:5000", "X-Forwarded-For", []string{"203.0.113.7"}, nil, "127.0.0.1:5000"},
		{"untrusted peer: the header is not believed", "198.51.100.1:5000", "X-Forwarded-For", []string{"203.0.113.7"}, trusted, "198.51.100.1:5000"},
		{"trusted peer, no header", "127.0.0.1:5000", "X-Forwarded-For", nil, trusted, "127.0.0.1:5000"},
		{"trusted peer", "127.0.0.1:5000", "X-Forwarded-For", []string{"203.0.113.7"}, trusted, "203.0.113.7"},
		{"IPv6 peer", "[::1]:5000", "X-Forwarded-For", []string{"2001:db8::7"}, trusted, "2001:db8::7"},
		{"past trusted hops", "127.0.0.1:5000", "X-Forwarded-For", []string{"203.0.113.7, 10.1.2.3"}, trusted, "203.0.113.7"},
		{"a client's own header is not believed", "127.0.0.1:5000", "X-Forwarded-For", []string{"1.2.3.4, 203.0.113.7, 10.1.2.3"}, trusted, "203.0.113.7"},
		{"several lines, in order", "127.0.0.1:5000", "X-Forwarded-For", []string{"1.2.3.4", "203.0.113.7"}, trusted, "203.0.113.7"},
		{"every hop trusted: the first", "127.0.0.1:5000", "X-Forwarded-For", []string{"10.0.0.1, 10.0.0.2"}, trusted, "10.0.0.1"},
		{"garbage ends the walk at the proxy that wrote it", "127.0.0.1:5000", "X-Forwarded-For", []string{"203.0.113.7, junk, 10.1.2.3"}, trusted, "10.1.2.3"},
		{"garbage from the nearest proxy", "127.0.0.1:5000", "X-Forwarded-For", []string{"junk"}, trusted, "127.0.0.1:5000"},
		{"mapped IPv4", "127.0.0.1:5000", "X-Forwarded-For", []string{"::ffff:203.0.113.7"}, trusted, "203.0.113.7"},
		{"zone refused", "127.0.0.1:5000", "X-Forwarded-For", []string{"fe80::1%eth0"}, trusted, "127.0.0.1:5000"},
		{"address and port", "127.0.0.1:5000", "X-Forwarded-For", []string{"203.0.113.7:4711"}, trusted, "203.0.113.7:4711"},
		{"Forwarded", "127.0.0.1:5000", "Forwarded", []string{"for=203.0.113.7;proto=http;by=127.0.0.1"}, trusted, "203.0.113.7"},
		{"Forwarded, quoted IPv6 and port", "127.0.0.1:5000", "Forwarded", []string{`for="[2001:db8::17]:4711"`}, trusted, "[2001:db8::17]:4711"},
		{"Forwarded, past trusted hops", "127.0.0.1:5000", "Forwarded", []string{"for=203.0.113.7, For=10.0.0.9;proto=https"}, trusted, "203.0.113.7"},
		{"Forwarded, unknown", "127.0.0.1:5000", "Forwarded", []string{"for=unknown, for=10.0.0.9"}, trusted, "10.0.0.9"},
		{"Forwarded, obfuscated", "127.0.0.1:5000", "Forwarded", []string{"for=_hidden"}, trusted, "127.0.0.1:5000"},
		{"Forwarded, no for", "127.0.0.1:5000", "Forwarded", []string{"proto=http"}, trusted, "127.0.0.1:5000"},
		{"Forwarded header not the one named", "127.0.0.1:5000", "X-Forwarded-For", nil, trusted, "127.0.0.1:5000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tt.remote, Header: http.Header{}}
			for _, v := range tt.values {
				r.Header.Add(tt.header, v)
			}
			if tt.name == "Forwarded header not the one named" {
				r.Header.Set("Forwarded", "for=203.0.113.7")
			}
			if got := clientAddr(r, tt.trusted, tt.header); got != tt.want {
				t.Fatalf("clientAddr = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTrustedProxyFlag(t *testing.T) {
	var f prefixFlag
	if err := f.Set("127.0.0.1,10.1.2.3/8, ::1"); err != nil {
		t.Fatal(err)
	}
	if got := f.String(); got != "127.0.0.1/32,10.0.0.0/8,::1/128" {
		t.Fatalf("--trusted-proxy parsed as %s", got)
	}
	if !f.trusts(netip.MustParseAddr("::ffff:10.9.9.9")) {
		t.Fatal("a mapped IPv4 address in 10.0.0.0/8 is not trusted")
	}
	for _, bad := range []string{"localhost", "10.0.0.0/33", "1.2.3"} {
		if err := f.Set(bad); err == nil {
			t.Errorf("--trusted-proxy %q accepted", bad)
		}
	}
}

// TestServeLogsClientBehindTrustedProxy checks that serve's logs name the
// client from X-Forwarded-For when the peer is a --trusted-proxy, and the
// peer otherwise.
func TestServeLogsClientBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		trusted, want string
	}{
		{"127.0.0.1", "remote=203.0.113.7"},
		{"10.0.0.0/8", "remote=127.0.0.1:"},
	} {
		s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--trusted-proxy", tt.trusted)
		for _, path := range []string{"/echo", "/chat?room=proxied"} {
			hdr := http.Header{"X-Forwarded-For": {"203.0.113.7"}}
			dial(t, s.ws(path), &websocket.DialOptions{HTTPHeader: hdr}).CloseNow()
		}
		waitForLog(t, s, "echo connection", tt.want)
		waitForLog(t, s, "chat connection", tt.want)
	}
}

// waitForLog waits for a line of s's log that holds both what and want.
func waitForLog(t *testing.T, s *server, what, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, l := range strings.Split(s.logs(), "\n") {
			if strings.Contains(l, what) && strings.Contains(l, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q log line with %q in:\n%s", what, want, s.logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func FuzzClientAddr(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "1.2.3.4, 10.0.0.1", "for=\"[2001:db8::17]:4711\";proto=http, for=10.0.0.1", "for=unknown", "[::1]", "for=\"", ","} {
		f.Add(s)
	}
	var trusted prefixFlag
	trusted.Set("127.0.0.0/8,10.0.0.0/8")
	f.Fuzz(func(t *testing.T, v string) {
		for _, h := range []string{"X-Forwarded-For", "Forwarded"} {
			r := &http.Request{RemoteAddr: "127.0.0.1:5000", Header: http.Header{h: {v}}}
			got := clientAddr(r, trusted, h)
			if got == r.RemoteAddr {
				continue
			}
			// Anything else is an address, with or without a port, that
			// appears in the header.
			if _, err := netip.ParseAddrPort(got); err != nil {
				if _, err := netip.ParseAddr(got); err != nil {
					t.Fatalf("%s: %q gives %q, not an address", h, v, got)
				}
			}
		}
	})
}
