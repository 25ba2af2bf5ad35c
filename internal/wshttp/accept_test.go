package wshttp

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// upgradeRequest returns a valid RFC 6455 opening handshake request with
// the header values of set replacing the defaults ("" deletes one).
func upgradeRequest(method string, set map[string]string) *http.Request {
	r := httptest.NewRequest(method, "http://example.com/ws", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "keep-alive, Upgrade")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	r.Header.Set("Sec-WebSocket-Version", "13")
	for k, v := range set {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	return r
}

func TestAcceptKey(t *testing.T) {
	t.Parallel()
	// RFC 6455 §1.3's example.
	if got, want := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("AcceptKey = %q, want %q", got, want)
	}
}

func TestCheckUpgrade(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		method  string
		set     map[string]string
		status  int
		version int
		origin  string
	}{
		{"valid", "GET", nil, 0, 13, ""},
		{"origin", "GET", map[string]string{"Origin": "https://a.example"}, 0, 13, "https://a.example"},
		{"hybi origin", "GET", map[string]string{"Sec-WebSocket-Version": "8", "Sec-WebSocket-Origin": "https://a.example", "Origin": "https://b.example"}, 0, 8, "https://a.example"},
		{"POST", "POST", nil, 405, 0, ""},
		{"no upgrade token", "GET", map[string]string{"Connection": "keep-alive"}, 400, 0, ""},
		{"no websocket token", "GET", map[string]string{"Upgrade": "h2c"}, 400, 0, ""},
		{"version 12", "GET", map[string]string{"Sec-WebSocket-Version": "12"}, 426, 0, ""},
		{"version 7 not listed", "GET", map[string]string{"Sec-WebSocket-Version": "7"}, 426, 0, ""},
		{"short key", "GET", map[string]string{"Sec-WebSocket-Key": "AQID"}, 400, 0, ""},
		{"no key", "GET", map[string]string{"Sec-WebSocket-Key": ""}, 400, 0, ""},
	} {
		version, origin, rf := CheckUpgrade(upgradeRequest(tt.method, tt.set), []int{8})
		switch {
		case tt.status == 0 && rf != nil:
			t.Errorf("%s: refused: %v", tt.name, rf)
		case tt.status != 0 && (rf == nil || rf.Status != tt.status || rf.Reason == ""):
			t.Errorf("%s: refusal %+v, want status %d", tt.name, rf, tt.status)
		case version != tt.version || origin != tt.origin:
			t.Errorf("%s: version %d, origin %q; want %d, %q", tt.name, version, origin, tt.version, tt.origin)
		}
	}
	r := upgradeRequest("GET", nil)
	r.Header.Add("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEA==")
	if _, _, rf := CheckUpgrade(r, nil); rf == nil || !strings.Contains(rf.Reason, "Sec-WebSocket-Key appears more than once") {
		t.Errorf("two keys: %v", rf)
	}
}

func TestSupportedVersions(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		legacy []int
		want   string
	}{{nil, "13"}, {[]int{7}, "13, 7"}, {[]int{7, 8}, "13, 8, 7"}, {[]int{9}, "13"}} {
		if got := SupportedVersions(tt.legacy); got != tt.want {
			t.Errorf("SupportedVersions(%v) = %q, want %q", tt.legacy, got, tt.want)
		}
	}
}

func TestChooseSubprotocol(t *testing.T) {
	t.Parallel()
	r := upgradeRequest("GET", map[string]string{"Sec-WebSocket-Protocol": "b, a"})
	if s, rf := ChooseSubprotocol(r, []string{"a", "b"}, nil); s != "a" || rf != nil {
		t.Errorf("server's order: %q, %v; want a", s, rf)
	}
	if s, rf := ChooseSubprotocol(r, []string{"c"}, nil); s != "" || rf != nil {
		t.Errorf("none in common: %q, %v", s, rf)
	}
	first := func(_ *http.Request, offered []string) string { return offered[0] }
	if s, rf := ChooseSubprotocol(r, nil, first); s != "b" || rf != nil {
		t.Errorf("chosen: %q, %v; want b", s, rf)
	}
	other := func(*http.Request, []string) string { return "c" }
	if _, rf := ChooseSubprotocol(r, nil, other); rf == nil || rf.Status != 500 {
		t.Errorf("choosing one not offered: %v, want a 500", rf)
	}
}

func TestSetRefusalHeaders(t *testing.T) {
	t.Parallel()
	h1, h2 := upgradeRequest("GET", nil), upgradeRequest("GET", nil)
	h2.ProtoMajor = 2
	for _, tt := range []struct {
		r            *http.Request
		status       int
		header, want string
	}{
		{h1, 405, "Allow", "GET"},
		{h2, 405, "Allow", "CONNECT"},
		{h1, 426, "Sec-WebSocket-Version", "13, 8"},
		{h2, 400, "Sec-WebSocket-Version", "13"},
		{h1, 400, "Sec-WebSocket-Version", ""},
		{h1, 503, "Connection", "close"},
		{h2, 503, "Connection", ""},
	} {
		h := http.Header{}
		SetRefusalHeaders(h, tt.r, tt.status, []int{8})
		if got := h.Get(tt.header); got != tt.want {
			t.Errorf("HTTP/%d %d: %s %q, want %q", tt.r.ProtoMajor, tt.status, tt.header, got, tt.want)
		}
	}
}

// TestSwitch answers a request with 101 over a real connection, served by
// net/http and by ServeUpgrades, and reads the answer back; the bytes the
// client sent after its request reach Switch's caller, whether they came
// with the request or after.
func TestSwitch(t *testing.T) {
	t.Parallel()
	servers := map[string]func(ln net.Listener, h http.Handler) (stop func()){
		"net/http": func(ln net.Listener, h http.Handler) func() {
			srv := &http.Server{Handler: h}
			go srv.Serve(ln)
			return func() { srv.Close() }
		},
		"ServeUpgrades": func(ln net.Listener, h http.Handler) func() {
			srv := &http.Server{Handler: h}
			go ServeUpgrades(srv, ln)
			return func() { srv.Close() }
		},
		// A middleware's ResponseWriter around ServeUpgrades's, found
		// through Unwrap.
		"ServeUpgrades, wrapped": func(ln net.Listener, h http.Handler) func() {
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.ServeHTTP(unwrapper{w}, r)
			})}
			go ServeUpgrades(srv, ln)
			return func() { srv.Close() }
		},
	}
	for name, serve := range servers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			type result struct {
				after []byte
				err   error
			}
			done := make(chan result, 1)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				nc, after, err := Switch(w, r, "chat", "permessage-deflate", http.Header{"X-Evil": {"a\r\nInjected: yes"}})
				if err == nil {
					// What came after the request, with it or later.
					got := append([]byte(nil), after...)
					nc.SetReadDeadline(time.Now().Add(10 * time.Second))
					for len(got) < len("after") {
						buf := make([]byte, 16)
						n, rerr := nc.Read(buf)
						got = append(got, buf[:n]...)
						if rerr != nil {
							break
						}
					}
					after = got
					nc.Close()
				}
				done <- result{after, err}
			}))()
			nc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			req := upgradeRequest("GET", nil)
			var head bytes.Buffer
			req.Write(&head)
			if _, err := nc.Write(append(head.Bytes(), "after"...)); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(nc), req)
			if err != nil {
				t.Fatal(err)
			}
			res := <-done
			if res.err != nil {
				t.Fatalf("Switch: %v", res.err)
			}
			if string(res.after) != "after" {
				t.Errorf("after the request: %q, want %q", res.after, "after")
			}
			if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" ||
				resp.Header.Get("Sec-WebSocket-Protocol") != "chat" || resp.Header.Get("Sec-WebSocket-Extensions") != "permessage-deflate" ||
				resp.Header.Get("X-Evil") != "a  Injected: yes" || resp.Header.Get("Injected") != "" {
				t.Errorf("answer %s %q", resp.Status, resp.Header)
			}
			if rf := CheckResponse(resp, "dGhlIHNhbXBsZSBub25jZQ=="); rf != nil {
				t.Errorf("CheckResponse of Switch's answer: %v", rf)
			}
		})
	}
}

// unwrapper is a middleware's ResponseWriter: it hides every method but
// those of http.ResponseWriter, and says what it wraps.
type unwrapper struct{ w http.ResponseWriter }

func (u unwrapper) Header() http.Header         { return u.w.Header() }
func (u unwrapper) Write(p []byte) (int, error) { return u.w.Write(p) }
func (u unwrapper) WriteHeader(status int)      { u.w.WriteHeader(status) }
func (u unwrapper) Unwrap() http.ResponseWriter { return u.w }

// TestFindUpgradeWriter: Switch takes ServeUpgrades's own writer without
// hijacking, found through any middleware that says what it wraps, and no
// other writer.
func TestFindUpgradeWriter(t *testing.T) {
	t.Parallel()
	uw := &upgradeWriter{}
	for _, tt := range []struct {
		name string
		w    http.ResponseWriter
		want *upgradeWriter
	}{
		{"ServeUpgrades's", uw, uw},
		{"wrapped twice", unwrapper{unwrapper{uw}}, uw},
		{"net/http's", httptest.NewRecorder(), nil},
		{"a wrapped recorder", unwrapper{httptest.NewRecorder()}, nil},
	} {
		if got := findUpgradeWriter(tt.w); got != tt.want {
			t.Errorf("%s: found %p, want %p", tt.name, got, tt.want)
		}
	}
}

// TestReleaseHijacked: buffers let go of answer http.ErrHijacked.
func TestReleaseHijacked(t *testing.T) {
	t.Parallel()
	brw := bufio.NewReadWriter(bufio.NewReader(strings.NewReader("x")), bufio.NewWriter(io.Discard))
	releaseHijacked(brw)
	if _, err := brw.Reader.Read(make([]byte, 1)); err != http.ErrHijacked {
		t.Errorf("reading released buffers: %v, want http.ErrHijacked", err)
	}
	brw.Writer.WriteString("x")
	if err := brw.Writer.Flush(); err != http.ErrHijacked {
		t.Errorf("writing released buffers: %v, want http.ErrHijacked", err)
	}
}

// TestSwitchWithoutHijack answers 500 when the connection cannot be taken over.
func TestSwitchWithoutHijack(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	_, _, err := Switch(w, upgradeRequest("GET", nil), "", "", nil)
	if rf, ok := err.(*Refusal); !ok || rf.Status != 500 || w.Code != 500 {
		t.Errorf("Switch on a recorder: %v, answered %d", err, w.Code)
	}
}
