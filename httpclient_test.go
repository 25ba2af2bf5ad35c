package websocket

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// clientOptions returns DialOptions that dial through an http.Client with
// jar and a transport that counts its dials, trusting the server in TLS modes.
func clientOptions(s *testServer, jar http.CookieJar, dials *atomic.Int64) *DialOptions {
	d := &net.Dialer{}
	opts := &DialOptions{HTTPClient: &http.Client{
		Jar: jar,
		Transport: &http.Transport{
			TLSClientConfig: s.tls,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return d.DialContext(ctx, network, addr)
			},
		},
	}}
	if s.mode.deflate {
		opts.Compression = &CompressionOptions{Threshold: -1}
	}
	return opts
}

// TestDialHTTPClient dials through an http.Client: its transport dials
// (TLS included), its jar sends the cookie the first answer set, and the
// connection then works as any other, read timeouts included, after
// Dial's context has ended.
func TestDialHTTPClient(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		var cookies atomic.Int64
		srv := m.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := r.Cookie("session"); err == nil {
				cookies.Add(1)
			}
			opts := m.acceptOptions(&AcceptOptions{ResponseHeader: http.Header{"Set-Cookie": {"session=s1; Path=/"}}})
			echoHandler(t, opts).ServeHTTP(w, r)
		}))
		jar, _ := cookiejar.New(nil)
		var dials atomic.Int64
		opts := clientOptions(srv, jar, &dials)
		for i := range 2 {
			dialCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, resp, err := Dial(dialCtx, srv.url, opts)
			cancel() // the connection outlives Dial's context
			if err != nil {
				t.Fatalf("Dial %d: %v", i, err)
			}
			defer c.CloseNow()
			if resp.StatusCode != 101 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if m.deflate && !strings.Contains(c.Extensions(), "permessage-deflate") {
				t.Fatalf("extensions %q", c.Extensions())
			}
			short, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
			_, _, err = c.Read(short)
			stop()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("idle Read: %v; want the context's deadline", err)
			}
			ctx, stop2 := context.WithTimeout(context.Background(), 5*time.Second)
			defer stop2()
			if err := c.Write(ctx, MessageText, []byte("through the client")); err != nil {
				t.Fatal(err)
			}
			if _, p, err := c.Read(ctx); err != nil || string(p) != "through the client" {
				t.Fatalf("echo: %q, %v", p, err)
			}
			if err := c.Close(StatusNormalClosure, ""); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		if d := dials.Load(); d != 2 {
			t.Errorf("the client's transport dialed %d times for 2 Dials", d)
		}
		if n := cookies.Load(); n != 1 {
			t.Errorf("the server saw the jar's cookie %d times, want 1 (on the second Dial)", n)
		}
	}, plainTCP, deflateTCP, plainTLS)
}

func TestDialHTTPClientRefusals(t *testing.T) {
	t.Parallel()
	url := startEcho(t, nil)
	for _, tc := range []struct {
		name string
		opts *DialOptions
		want string
	}{
		{"TLSConfig beside", &DialOptions{HTTPClient: &http.Client{}, Proxy: http.ProxyFromEnvironment}, "on its Transport"},
		{"HTTP2 beside", &DialOptions{HTTPClient: &http.Client{}, HTTP2: &http.Transport{}}, "set one"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _, err := Dial(ctx, url, tc.opts)
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Dial: %v; want an error mentioning %q", tc.name, err, tc.want)
		}
	}
}
