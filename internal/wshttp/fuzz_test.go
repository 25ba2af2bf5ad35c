package wshttp

import (
	"bufio"
	"net/http"
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
