package hub_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
	_ "github.com/duplexws/websocket/xconnect" // the HTTP/2 server offers extended CONNECT
)

// TestSubscribersOverHTTP2 subscribes WebSockets that are HTTP/2 extended
// CONNECT streams (RFC 8441) of one h2c connection: the hub counts them,
// delivers a message one of them publishes to every one, and counts them
// gone when they close.
func TestSubscribersOverHTTP2(t *testing.T) {
	t.Parallel()
	const n = 5
	h := quietHub(t, hub.Options{})
	srv := httptest.NewUnstartedServer(hubHandler(h, nil))
	var tcpConns atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			tcpConns.Add(1)
		}
	}
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)

	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/sub?topic=t"
	conns := dialN(t, h, url, n, &websocket.DialOptions{HTTP2: tr})
	if got := tcpConns.Load(); got != 1 {
		t.Fatalf("%d subscribers came over %d TCP connections, want 1", n, got)
	}
	if st := h.Stats(); st.Subscribers != n || st.Topics != 1 {
		t.Fatalf("Stats: %d subscribers on %d topics, want %d on 1", st.Subscribers, st.Topics, n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg := []byte("over HTTP/2")
	if err := conns[0].Write(ctx, websocket.MessageText, msg); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		typ, p, err := c.Read(ctx)
		if err != nil || typ != websocket.MessageText || !bytes.Equal(p, msg) {
			t.Fatalf("subscriber %d read %v %q: %v", i, typ, p, err)
		}
	}
	waitUntil(t, func() bool { return h.Stats().Delivered >= n }, "every delivery counted")
	if st := h.Stats(); st.Published != 1 || st.Delivered != n {
		t.Fatalf("Stats: published %d, delivered %d; want 1 and %d", st.Published, st.Delivered, n)
	}

	for _, c := range conns {
		c.Close(websocket.StatusNormalClosure, "")
	}
	waitUntil(t, func() bool { return h.Stats().Subscribers == 0 }, "no subscribers after the streams close")
	if got := tcpConns.Load(); got != 1 {
		t.Fatalf("%d TCP connections, want 1", got)
	}
}
