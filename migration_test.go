package websocket_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/duplexws/websocket"
)

// TestMigration runs, one subtest a row, the Duplex side of the README's
// tables "Coming from gorilla/websocket or coder/websocket": each uses the
// names of the row's right column as a ported program would, so that a
// row naming something that does not exist, or does something else, fails
// here. TestMigrationTablesChecked holds the README to naming, for every
// row, a subtest or test that exists.
func TestMigration(t *testing.T) {
	t.Parallel()
	url := echoServer(t, &websocket.AcceptOptions{
		Compression:    &websocket.CompressionOptions{Level: 1},
		ResponseHeader: http.Header{"X-Server": {"duplex"}},
		Subprotocols:   []string{"chat"},
	})
	dial := func(t *testing.T, opts *websocket.DialOptions) *websocket.Conn {
		t.Helper()
		c, _, err := websocket.Dial(testContext(t), url, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}

	t.Run("Upgrade", func(t *testing.T) {
		c, resp, err := websocket.Dial(testContext(t), url, &websocket.DialOptions{HTTPHeader: http.Header{"X-Client": {"1"}}})
		if err != nil || resp.Header.Get("X-Server") != "duplex" {
			t.Fatalf("%v, %v", resp, err)
		}
		c.CloseNow()
	})
	t.Run("Subprotocol", func(t *testing.T) {
		if c := dial(t, &websocket.DialOptions{Subprotocols: []string{"chat"}}); c.Subprotocol() != "chat" {
			t.Fatalf("subprotocol %q", c.Subprotocol())
		}
	})
	t.Run("Compression", func(t *testing.T) {
		c := dial(t, &websocket.DialOptions{Compression: &websocket.CompressionOptions{Level: 9, Threshold: 0}})
		if !strings.Contains(c.Extensions(), "permessage-deflate") {
			t.Fatalf("extensions %q", c.Extensions())
		}
		echoOnce(t, c, strings.Repeat("compress me ", 100))
	})
	t.Run("BufferSizes", func(t *testing.T) {
		echoOnce(t, dial(t, &websocket.DialOptions{ReadBufferSize: 1024, WriteBufferSize: 1024}), "sized")
	})
	t.Run("HandshakeTimeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
		defer cancel()
		<-ctx.Done()
		if _, _, err := websocket.Dial(ctx, url, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Dial with an ended context: %v", err)
		}
	})
	t.Run("IsWebSocketUpgrade", func(t *testing.T) {
		// A page and a WebSocket on one path.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !websocket.IsWebSocketUpgrade(r) {
				io.WriteString(w, "<html>the page</html>")
				return
			}
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			c.Write(r.Context(), websocket.MessageText, []byte("the socket"))
			c.Close(websocket.StatusNormalClosure, "")
		}))
		defer srv.Close()
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		c, _, err := websocket.Dial(testContext(t), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		_, p, err := c.Read(testContext(t))
		if string(page) != "<html>the page</html>" || string(p) != "the socket" || err != nil {
			t.Fatalf("page %q, message %q, %v", page, p, err)
		}
	})
	t.Run("Dial", func(t *testing.T) {
		echoOnce(t, dial(t, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer x"}}}), "dialled")
	})
	t.Run("DialerFields", func(t *testing.T) {
		c := dial(t, &websocket.DialOptions{
			Proxy:          func(*http.Request) (*neturl.URL, error) { return nil, nil },
			NetDialContext: (&net.Dialer{}).DialContext,
			TLSConfig:      &tls.Config{},
		})
		echoOnce(t, c, "direct")
	})
	t.Run("Jar", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		echoOnce(t, dial(t, &websocket.DialOptions{HTTPClient: &http.Client{Jar: jar}}), "with a jar")
	})
	t.Run("ReadWrite", func(t *testing.T) {
		c := dial(t, nil)
		ctx := testContext(t)
		for _, typ := range []websocket.MessageType{websocket.MessageText, websocket.MessageBinary} {
			if err := c.Write(ctx, typ, []byte("x")); err != nil {
				t.Fatal(err)
			}
			if got, p, err := c.Read(ctx); got != typ || string(p) != "x" || err != nil {
				t.Fatalf("%v %q %v", got, p, err)
			}
		}
	})
	t.Run("ReaderWriter", func(t *testing.T) {
		c := dial(t, nil)
		ctx := testContext(t)
		w, err := c.Writer(ctx, websocket.MessageText)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "streamed")
		w.Close()
		_, r, err := c.Reader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := io.ReadAll(r); string(p) != "streamed" {
			t.Fatalf("%q", p)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		c := dial(t, nil)
		ctx := testContext(t)
		if err := c.WriteJSON(ctx, map[string]int{"n": 1}); err != nil {
			t.Fatal(err)
		}
		var v map[string]int
		if err := c.ReadJSON(ctx, &v); err != nil || v["n"] != 1 {
			t.Fatalf("%v %v", v, err)
		}
	})
	t.Run("Deadlines", func(t *testing.T) {
		c := dial(t, nil)
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(20*time.Millisecond))
		defer cancel()
		if _, _, err := c.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Read past its deadline: %v", err)
		}
		echoOnce(t, c, "still usable") // a deadline between messages keeps the connection
	})
	t.Run("ReadLimit", func(t *testing.T) {
		c := dial(t, nil)
		c.SetReadLimit(4)
		ctx := testContext(t)
		c.Write(ctx, websocket.MessageText, []byte("too long"))
		if _, _, err := c.Read(ctx); !errors.Is(err, websocket.ErrMessageTooBig) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("Ping", func(t *testing.T) {
		c := dial(t, &websocket.DialOptions{PingInterval: time.Minute, PingTimeout: 10 * time.Second})
		c.CloseRead(context.Background()) // something must read for the pong to be seen
		if err := c.Ping(testContext(t)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("CloseHandler", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, err := websocket.Accept(w, r, nil); err == nil {
				c.Close(websocket.StatusGoingAway, "bye")
			}
		}))
		defer srv.Close()
		c, _, err := websocket.Dial(testContext(t), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		_, _, err = c.Read(testContext(t))
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway || ce.Reason != "bye" || websocket.CloseStatus(err) != websocket.StatusGoingAway {
			t.Fatalf("%v", err)
		}
	})
	t.Run("Close", func(t *testing.T) {
		if err := dial(t, nil).Close(websocket.StatusNormalClosure, "done"); err != nil {
			t.Fatal(err)
		}
		if err := dial(t, nil).CloseNow(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		c := dial(t, nil)
		c.CloseNow()
		if err := c.Write(context.Background(), websocket.MessageText, nil); !errors.Is(err, websocket.ErrClosed) {
			t.Fatalf("write after close: %v", err)
		}
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		_, resp, err := websocket.Dial(testContext(t), srv.URL, nil)
		var he *websocket.HandshakeError
		if !errors.As(err, &he) || !errors.Is(err, websocket.ErrBadHandshake) || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%v", err)
		}
	})
	t.Run("Prepared", func(t *testing.T) {
		pm := websocket.NewPreparedMessage(websocket.MessageText, []byte("once"))
		for range 2 {
			c := dial(t, nil)
			if err := c.WritePrepared(testContext(t), pm); err != nil {
				t.Fatal(err)
			}
			if _, p, err := c.Read(testContext(t)); string(p) != "once" || err != nil {
				t.Fatalf("%q %v", p, err)
			}
		}
	})
	t.Run("NetConn", func(t *testing.T) {
		c := dial(t, nil)
		if c.LocalAddr() == nil || c.RemoteAddr() == nil {
			t.Fatal("no addresses")
		}
		nc := c.NetConn(websocket.MessageBinary) // messages as a byte stream, not the TCP connection
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Write([]byte("bytes")); err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 5)
		if _, err := io.ReadFull(nc, p); err != nil || string(p) != "bytes" {
			t.Fatalf("%q %v", p, err)
		}
		var _ net.Conn = nc
	})
}

// tableRow matches a row of a README table: three cells.
var tableRow = regexp.MustCompile("^\\| (.+) \\| (.+) \\| (.+) \\|$")

// TestMigrationTablesChecked checks that every row of the README's
// migration tables names, in its last column, tests that exist: a subtest
// of TestMigration ("TestMigration/Close") or a test, example or benchmark
// of the package.
func TestMigrationTablesChecked(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var source strings.Builder
	files, _ := os.ReadDir(".")
	for _, f := range files {
		if strings.HasSuffix(f.Name(), "_test.go") {
			b, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			source.Write(b)
		}
	}
	src := source.String()
	start := strings.Index(string(readme), "## Coming from gorilla/websocket or coder/websocket")
	if start < 0 {
		t.Fatal("README has no migration section")
	}
	section := string(readme[start:])
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	rows := 0
	sc := bufio.NewScanner(strings.NewReader(section))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		m := tableRow.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("row without three columns: %s", line)
			continue
		}
		if m[3] == "Checked by" {
			continue
		}
		rows++
		names := regexp.MustCompile("`([A-Za-z_/]+)`").FindAllStringSubmatch(m[3], -1)
		if len(names) == 0 {
			t.Errorf("row names no test: %s", line)
		}
		for _, n := range names {
			name := n[1]
			var found bool
			if sub, ok := strings.CutPrefix(name, "TestMigration/"); ok {
				found = strings.Contains(src, `t.Run("`+sub+`"`)
			} else {
				found = strings.Contains(src, "func "+name+"(")
			}
			if !found {
				t.Errorf("row names %s, which no test defines: %s", name, line)
			}
		}
	}
	if rows < 30 {
		t.Errorf("found %d rows in the migration tables; want the tables whole", rows)
	}
}
