package websocket

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawExchange sends request bytes to a server and returns its response bytes
// up to the end of the header.
func rawExchange(t *testing.T, addr, request string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(nc, request)
	br := bufio.NewReader(nc)
	var resp strings.Builder
	for {
		line, err := br.ReadString('\n')
		resp.WriteString(line)
		if err != nil || line == "\r\n" {
			return resp.String()
		}
	}
}

func TestHandshakeBytesPerVersion(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(echoHandler(t, &AcceptOptions{LegacyVersions: []int{7, 8}}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	// The sample key of RFC 6455 §1.3 and its accept value; hybi-07 and
	// hybi-08 compute it the same way.
	const want = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	for _, tc := range []struct {
		version int
		origin  string
	}{
		{13, "Origin: http://" + addr},
		{8, "Sec-WebSocket-Origin: http://" + addr},
		{7, "Sec-WebSocket-Origin: http://" + addr},
	} {
		req := fmt.Sprintf("GET /chat HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n%s\r\nSec-WebSocket-Version: %d\r\n\r\n", addr, tc.origin, tc.version)
		if got := rawExchange(t, addr, req); got != want {
			t.Errorf("version %d: got\n%q\nwant\n%q", tc.version, got, want)
		}
	}
}

func TestLegacyVersionsRefusedByDefault(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(echoHandler(t, nil))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	requests := map[string]string{
		"hybi-07": "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n",
		"hybi-08": "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
		// The worked example of draft-hixie-thewebsocketprotocol-76.
		"hixie-76": "GET /demo HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\nSec-WebSocket-Protocol: sample\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nOrigin: http://" + addr + "\r\n\r\n^n:ds[4U",
	}
	for name, req := range requests {
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(rawExchange(t, addr, req))), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Sec-WebSocket-Version") != "13" {
			t.Errorf("%s: answered %s with Sec-WebSocket-Version %q, want 426 listing 13", name, resp.Status, resp.Header.Get("Sec-WebSocket-Version"))
		}
	}
	// With legacy versions on, the 426 lists them after 13.
	srv2 := httptest.NewServer(echoHandler(t, &AcceptOptions{LegacyVersions: []int{7, 8}}))
	defer srv2.Close()
	addr2 := strings.TrimPrefix(srv2.URL, "http://")
	raw := rawExchange(t, addr2, "GET / HTTP/1.1\r\nHost: "+addr2+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 9\r\n\r\n")
	if !strings.Contains(raw, "Sec-Websocket-Version: 13, 8, 7\r\n") {
		t.Errorf("426 for version 9 does not list 13, 8, 7:\n%s", raw)
	}
}
