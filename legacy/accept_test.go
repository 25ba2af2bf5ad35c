package legacy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	websocket "github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/wshttp"
)

// acceptServer serves Accept with opts and reports each Accept's error on
// the returned channel; accepted connections echo until they close.
func acceptServer(t *testing.T, opts *AcceptOptions) (*httptest.Server, <-chan error) {
	t.Helper()
	errs := make(chan error, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, opts)
		errs <- err
		if err != nil {
			return
		}
		defer c.CloseNow()
		echo(c)
	}))
	t.Cleanup(srv.Close)
	return srv, errs
}

// echo sends every message back until the connection closes.
func echo(c *Conn) {
	ctx := context.Background()
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, p); err != nil {
			return
		}
	}
}

// rawHandshake sends request on a new TCP connection to srv and returns the
// connection with a reader positioned at the answer.
func rawHandshake(t *testing.T, srv *httptest.Server, request string) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(nc, request); err != nil {
		t.Fatal(err)
	}
	return nc, bufio.NewReader(nc)
}

func draftRequest(key1, key2, key3 string) string {
	// Header order and spelling as in the draft's example.
	return "GET /demo HTTP/1.1\r\n" +
		"Host: example.com\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key2: " + key2 + "\r\n" +
		"Sec-WebSocket-Protocol: sample\r\n" +
		"Upgrade: WebSocket\r\n" +
		"Sec-WebSocket-Key1: " + key1 + "\r\n" +
		"Origin: http://example.com\r\n" +
		"\r\n" + key3
}

func TestAcceptAnswersDraftExamplesByteForByte(t *testing.T) {
	t.Parallel()
	srv, errs := acceptServer(t, &AcceptOptions{Subprotocols: []string{"other", "sample"}})
	for _, ex := range draftExamples {
		t.Run(ex.name, func(t *testing.T) {
			_, br := rawHandshake(t, srv, draftRequest(ex.key1, ex.key2, ex.key3))
			want := "HTTP/1.1 101 WebSocket Protocol Handshake\r\n" +
				"Upgrade: WebSocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Origin: http://example.com\r\n" +
				"Sec-WebSocket-Location: ws://example.com/demo\r\n" +
				"Sec-WebSocket-Protocol: sample\r\n" +
				"\r\n" + ex.answer
			got := make([]byte, len(want))
			if _, err := io.ReadFull(br, got); err != nil {
				t.Fatalf("reading the answer: %v (got %q)", err, got)
			}
			if string(got) != want {
				t.Fatalf("answer\n%q\nwant\n%q", got, want)
			}
			if err := <-errs; err != nil {
				t.Fatalf("Accept: %v", err)
			}
		})
	}
}

// TestAcceptKeyBytesInALaterPacket sends the eight key bytes that follow
// the headers only once the handler runs, so after net/http has parsed the
// headers and handed over the connection.
func TestAcceptKeyBytesInALaterPacket(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{}, 1)
	errs := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		c, err := Accept(w, r, nil)
		errs <- err
		if err != nil {
			return
		}
		defer c.CloseNow()
		echo(c)
	}))
	t.Cleanup(srv.Close)
	ex := draftExamples[1]
	req := draftRequest(ex.key1, ex.key2, "")
	req = strings.Replace(req, "Sec-WebSocket-Protocol: sample\r\n", "", 1)
	nc, br := rawHandshake(t, srv, req)
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not run for the request without its key bytes")
	}
	if _, err := io.WriteString(nc, ex.key3); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %s, want 101", resp.Status)
	}
	answer := make([]byte, 16)
	if _, err := io.ReadFull(br, answer); err != nil || string(answer) != ex.answer {
		t.Fatalf("answer %q, %v; want %q", answer, err, ex.answer)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

func TestAcceptKeepsFramesSentWithTheHandshake(t *testing.T) {
	t.Parallel()
	srv, _ := acceptServer(t, nil)
	ex := draftExamples[1]
	req := strings.Replace(draftRequest(ex.key1, ex.key2, ex.key3), "Sec-WebSocket-Protocol: sample\r\n", "", 1)
	_, br := rawHandshake(t, srv, req+"\x00first\xff")
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("answer %v, %v; want 101", resp, err)
	}
	got := make([]byte, 16+7)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != ex.answer+"\x00first\xff" {
		t.Fatalf("after the headers %q, %v; want the answer and the echo of the first message", got, err)
	}
}

func TestAcceptKeyBytesDeclaredAsBody(t *testing.T) {
	t.Parallel()
	srv, errs := acceptServer(t, nil)
	ex := draftExamples[1]
	req := strings.Replace(draftRequest(ex.key1, ex.key2, ex.key3), "Sec-WebSocket-Protocol: sample\r\n", "Content-Length: 8\r\n", 1)
	_, br := rawHandshake(t, srv, req)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("answer %v, %v; want 101", resp, err)
	}
	answer := make([]byte, 16)
	if _, err := io.ReadFull(br, answer); err != nil || string(answer) != ex.answer {
		t.Fatalf("answer %q, %v; want %q", answer, err, ex.answer)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

func TestAcceptRefusesBadHandshakes(t *testing.T) {
	t.Parallel()
	ex := draftExamples[1]
	good := draftRequest(ex.key1, ex.key2, ex.key3)
	for _, tt := range []struct {
		name      string
		request   string
		closeSend bool // half-close after the request, so the server sees EOF
		opts      *AcceptOptions
		status    int
		body      string
	}{
		{
			name:    "key without spaces",
			request: strings.Replace(good, ex.key1, "18x6]8vM;54*(5:{U1]8z[8", 1),
			status:  400, body: "no spaces",
		},
		{
			name:    "number not a multiple of the spaces",
			request: strings.Replace(good, ex.key2, "1_ tx7X d  <  nw  334J702) 7]o}` 8", 1),
			status:  400, body: "not a multiple",
		},
		{
			name:    "key without digits",
			request: strings.Replace(good, ex.key1, "x y z", 1),
			status:  400, body: "no digits",
		},
		{
			name:    "key number too large",
			request: strings.Replace(good, ex.key1, "99999999999 9", 1),
			status:  400, body: "exceed",
		},
		{
			name:    "missing key",
			request: strings.Replace(good, "Sec-WebSocket-Key1: "+ex.key1+"\r\n", "", 1),
			status:  400, body: "Sec-WebSocket-Key1 header is missing",
		},
		{
			name:    "repeated key",
			request: strings.Replace(good, "Origin:", "Sec-WebSocket-Key1: 1 2\r\nOrigin:", 1),
			status:  400, body: "appears 2 times",
		},
		{
			name:      "missing key bytes",
			request:   strings.TrimSuffix(good, ex.key3),
			closeSend: true,
			status:    400, body: "8 key bytes",
		},
		{
			name:      "short key bytes",
			request:   strings.TrimSuffix(good, ex.key3) + "Tm[K",
			closeSend: true,
			status:    400, body: "8 key bytes",
		},
		{
			name:    "body of the wrong length",
			request: strings.Replace(good, "Origin:", "Content-Length: 4\r\nOrigin:", 1),
			status:  400, body: "not 4 bytes",
		},
		{
			name:    "chunked body",
			request: strings.Replace(strings.TrimSuffix(good, ex.key3), "Origin:", "Transfer-Encoding: chunked\r\nOrigin:", 1) + "8\r\n" + ex.key3 + "\r\n0\r\n\r\n",
			status:  400, body: "unknown length",
		},
		{
			name:    "not an upgrade",
			request: strings.Replace(good, "Upgrade: WebSocket\r\n", "Upgrade: h2c\r\n", 1),
			status:  400, body: "Upgrade header",
		},
		{
			name:    "foreign origin",
			request: strings.Replace(good, "Origin: http://example.com", "Origin: http://evil.example", 1),
			status:  403, body: "OriginPatterns",
		},
		{
			name:    "malformed origin",
			request: strings.Replace(good, "Origin: http://example.com", "Origin: null", 1),
			status:  403, body: "Origin",
		},
		{
			name:    "POST",
			request: strings.Replace(good, "GET /demo", "POST /demo", 1),
			status:  405, body: "GET",
		},
		{
			name:    "unsafe response header",
			request: good,
			opts:    &AcceptOptions{ResponseHeader: http.Header{"X-Bad": {"a\r\nInjected: yes"}}},
			status:  500, body: "line break",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, errs := acceptServer(t, tt.opts)
			nc, br := rawHandshake(t, srv, tt.request)
			if tt.closeSend {
				_ = nc.(*net.TCPConn).CloseWrite()
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d (body %q)", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q, want text/plain", ct)
			}
			if !strings.Contains(string(body), tt.body) {
				t.Errorf("body %q does not say %q", body, tt.body)
			}
			if err := <-errs; !errors.Is(err, websocket.ErrBadHandshake) || !strings.Contains(err.Error(), tt.body) {
				t.Errorf("Accept error %v, want ErrBadHandshake saying %q", err, tt.body)
			}
		})
	}
}

// TestAcceptOnRefuse checks that AcceptOptions.OnRefuse answers a refused
// handshake in Accept's stead, given its status and reason, and that
// Accept still returns the error.
func TestAcceptOnRefuse(t *testing.T) {
	t.Parallel()
	ex := draftExamples[1]
	request := strings.Replace(draftRequest(ex.key1, ex.key2, ex.key3), "Origin: http://example.com", "Origin: http://evil.example", 1)
	var got *websocket.HandshakeError
	srv, errs := acceptServer(t, &AcceptOptions{OnRefuse: func(w http.ResponseWriter, r *http.Request, err *websocket.HandshakeError) {
		got = err
		w.Header().Set("X-Refused", "yes")
		http.Error(w, "not from "+r.Header.Get("Origin"), http.StatusTeapot)
	}})
	_, br := rawHandshake(t, srv, request)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTeapot || resp.Header.Get("X-Refused") != "yes" || !strings.Contains(string(body), "not from http://evil.example") {
		t.Errorf("answer %d %q %q, want OnRefuse's", resp.StatusCode, resp.Header, body)
	}
	if err := <-errs; !errors.Is(err, websocket.ErrBadHandshake) {
		t.Errorf("Accept error %v, want ErrBadHandshake", err)
	}
	if got == nil || got.Status != http.StatusForbidden || !strings.Contains(got.Reason, "evil.example") {
		t.Errorf("OnRefuse given %v, want 403 naming the origin", got)
	}
}

func TestAcceptOrigin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		origin   string
		patterns []string
		skip     bool
		ok       bool
	}{
		{origin: "", ok: true},
		{origin: "http://example.com", ok: true},
		{origin: "https://EXAMPLE.com", ok: true},
		{origin: "http://other.com", ok: false},
		{origin: "http://other.com", patterns: []string{"other.com"}, ok: true},
		{origin: "http://a.other.com", patterns: []string{"*.other.com"}, ok: true},
		{origin: "http://a.other.com:8080", patterns: []string{"*.other.com"}, ok: false},
		{origin: "https://other.com", patterns: []string{"https://other.com"}, ok: true},
		{origin: "http://other.com", patterns: []string{"https://other.com"}, ok: false},
		{origin: "http://other.com", skip: true, ok: true},
		{origin: "null", ok: false},
		{origin: "null", skip: true, ok: true},
	} {
		r := httptest.NewRequest("GET", "http://example.com/demo", nil)
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		err := wshttp.CheckOrigin(r.Header.Get("Origin"), r.Host, tt.patterns)
		if tt.skip {
			err = nil // InsecureSkipOriginCheck: Accept does not check the origin
		}
		if (err == nil) != tt.ok {
			t.Errorf("origin %q, patterns %q: error %v, want ok=%v", tt.origin, tt.patterns, err, tt.ok)
		}
	}
}

func TestIsHixie76(t *testing.T) {
	t.Parallel()
	hixie := func() *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Upgrade", "WebSocket")
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Sec-WebSocket-Key1", "1 2")
		r.Header.Set("Sec-WebSocket-Key2", "3 4")
		return r
	}
	for _, tt := range []struct {
		name   string
		modify func(r *http.Request)
		want   bool
	}{
		{"hixie-76", func(r *http.Request) {}, true},
		{"lower-case upgrade, connection list", func(r *http.Request) {
			r.Header.Set("Upgrade", "websocket")
			r.Header.Set("Connection", "keep-alive, upgrade")
		}, true},
		{"RFC 6455", func(r *http.Request) {
			r.Header.Del("Sec-WebSocket-Key1")
			r.Header.Del("Sec-WebSocket-Key2")
			r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			r.Header.Set("Sec-WebSocket-Version", "13")
		}, false},
		{"both key styles", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==") }, false},
		{"hixie-75 (no keys)", func(r *http.Request) {
			r.Header.Del("Sec-WebSocket-Key1")
			r.Header.Del("Sec-WebSocket-Key2")
		}, false},
		{"one key", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Key2") }, false},
		{"POST", func(r *http.Request) { r.Method = "POST" }, false},
		{"no upgrade", func(r *http.Request) { r.Header.Del("Upgrade") }, false},
		{"no connection upgrade", func(r *http.Request) { r.Header.Set("Connection", "keep-alive") }, false},
		{"plain GET", func(r *http.Request) { r.Header = http.Header{} }, false},
	} {
		r := hixie()
		tt.modify(r)
		if got := IsHixie76(r); got != tt.want {
			t.Errorf("%s: IsHixie76 = %v, want %v", tt.name, got, tt.want)
		}
	}
}
