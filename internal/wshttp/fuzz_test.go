package wshttp

import (
	"bufio"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func FuzzAcceptRequest(f *testing.F) {
	f.Add("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a, b\r\nOrigin: http://x\r\n\r\n")
	f.Add("GET / HTTP/1.0\r\nUpgrade: WebSocket\r\nConnection: keep-alive,upgrade\r\nSec-WebSocket-Version: 8\r\n\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		version, _, herr := CheckUpgrade(req, []int{8})
		if herr != nil {
			if herr.Status < 400 || herr.Reason == "" {
				t.Fatalf("refusal without a status or reason: %+v", herr)
			}
			return
		}
		if version != 13 && version != 8 {
			t.Fatalf("accepted version %d", version)
		}
		ChooseSubprotocol(req, []string{"a"}, nil)
		CheckOrigin(req.Header.Get("Origin"), req.Host, []string{"*.example.com"})
	})
}

// FuzzParseUpgradeRequest holds ParseUpgradeRequest to net/http: a request
// it takes must be one http.ReadRequest takes too, with the same method,
// target, host, header fields and close flag.
func FuzzParseUpgradeRequest(f *testing.F) {
	f.Add("GET /chat?x=1 HTTP/1.1\r\nHost: example.com:80\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n")
	f.Add("GET / HTTP/1.1\r\nhost: [::1]:8080\r\nupgrade: WebSocket\r\nconnection: keep-alive, Upgrade, close\r\nx-a: 1\r\nX-A:  2 \t\r\n")
	f.Add("GET //evil/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
	f.Add("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nContent-Length: 5\r\n")
	f.Add("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n folded\r\n")
	f.Fuzz(func(t *testing.T, head string) {
		lean := new(http.Request)
		if !ParseUpgradeRequest([]byte(head), lean) {
			return
		}
		std, err := http.ReadRequest(bufio.NewReader(strings.NewReader(head + "\r\n")))
		if err != nil {
			t.Fatalf("ParseUpgradeRequest took a request net/http refuses (%v):\n%q", err, head)
		}
		if lean.Method != std.Method || lean.RequestURI != std.RequestURI || lean.URL.String() != std.URL.String() ||
			lean.Proto != std.Proto || lean.Host != std.Host || lean.Close != std.Close ||
			!reflect.DeepEqual(lean.Header, std.Header) {
			t.Fatalf("ParseUpgradeRequest and net/http differ on\n%q:\n%s %q %s host %q close %v %q\n%s %q %s host %q close %v %q", head,
				lean.Method, lean.RequestURI, lean.Proto, lean.Host, lean.Close, lean.Header,
				std.Method, std.RequestURI, std.Proto, std.Host, std.Close, std.Header)
		}
		if !HasToken(lean.Header, "Upgrade", "websocket") {
			t.Fatalf("took a request without Upgrade: websocket: %q", head)
		}
	})
}
