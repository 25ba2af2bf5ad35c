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

// TestDialProxy runs CONNECT against a proxy played by hand: it must see
// the target and the credentials, and what it sends after its answer is
// the tunnel's, not swallowed by the client's reading of the answer.
func TestDialProxy(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, answer, err string
	}{
		{"tunnel", "HTTP/1.1 200 Connection established\r\n\r\ntunnel bytes", ""},
		{"refused", "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", "refused CONNECT target.example:443: 407 Proxy Authentication Required"},
	} {
		client, proxy := net.Pipe()
		seen := make(chan *http.Request, 1)
		go func() {
			defer proxy.Close()
			r, err := http.ReadRequest(bufio.NewReader(proxy))
			seen <- r
			if err == nil {
				proxy.Write([]byte(tt.answer))
			}
		}()
		dial := func(context.Context, string, string) (net.Conn, error) { return client, nil }
		proxyURL, _ := url.Parse("http://user:pass@proxy.example")
		nc, err := dialProxy(context.Background(), dial, proxyURL, "target.example:443")
		r := <-seen
		if r == nil || r.Method != http.MethodConnect || r.Host != "target.example:443" || r.Header.Get("Proxy-Authorization") != "Basic dXNlcjpwYXNz" {
			t.Errorf("%s: the proxy saw %+v", tt.name, r)
		}
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: %v, want an error saying %q", tt.name, err, tt.err)
		case tt.err == "":
			b := make([]byte, len("tunnel bytes"))
			if n, _ := io.ReadFull(nc, b); string(b[:n]) != "tunnel bytes" {
				t.Errorf("%s: the tunnel starts with %q", tt.name, b[:n])
			}
			nc.Close()
		}
	}
	if _, err := dialProxy(context.Background(), nil, &url.URL{Scheme: "socks5", Host: "p"}, "t:1"); err == nil || !strings.Contains(err.Error(), `proxy scheme "socks5" is not supported`) {
		t.Errorf("a socks5 proxy: %v", err)
	}
}
