package websocket

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestConnContext checks that a connection's Context is canceled however
// the connection ends, on either side, in goroutine and engine mode, with
// the close error as its cause, and is already canceled when asked for
// after the end.
func TestConnContext(t *testing.T) { run(t, testConnContext, plainTCP, plainTLS) }

func testConnContext(t *testing.T, m mode) {
	accepted := make(chan *Conn, 16)
	e, err := NewEngine(&EngineOptions{
		OnMessage: func(c *Conn, typ MessageType, r io.Reader) { io.Copy(io.Discard, r) },
		OnClose: func(c *Conn, err error) {
			if c.Context().Err() == nil {
				t.Error("OnClose called before the connection's context was canceled")
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	srv := m.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		if r.URL.Path == "/engine" {
			if err := e.Serve(c); err != nil {
				t.Errorf("Serve: %v", err)
			}
		}
		accepted <- c
		if r.URL.Path != "/engine" {
			<-c.Context().Done()
		}
	}))
	ended := func(what string, c *Conn, want StatusCode) {
		t.Helper()
		select {
		case <-c.Context().Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the context was not canceled", what)
		}
		if code := CloseStatus(context.Cause(c.Context())); code != want {
			t.Fatalf("%s: the context's cause is %v, want the close status %v", what, context.Cause(c.Context()), want)
		}
		if _, _, err := c.Read(context.Background()); err == nil {
			t.Fatalf("%s: Read after the context ended succeeded", what)
		}
	}
	for _, path := range []string{"/", "/engine"} {
		// The client closes: both ends' contexts end.
		cl := dialT(t, srv.url+path, srv.dialOptions(nil))
		sv := <-accepted
		if path == "/" {
			go sv.Read(context.Background()) // answers the close frame
		}
		ctx := cl.Context()
		if ctx != cl.Context() {
			t.Fatal("Context returned two contexts")
		}
		if ctx.Err() != nil {
			t.Fatal("the context of an open connection has ended")
		}
		afterFunc := make(chan struct{})
		context.AfterFunc(sv.Context(), func() { close(afterFunc) })
		cl.Close(StatusNormalClosure, "bye")
		ended(path+": closing end", cl, StatusNormalClosure)
		ended(path+": peer", sv, StatusNormalClosure)
		<-afterFunc

		// The server ends the connection at once; a context asked for
		// after the end is canceled already.
		cl = dialT(t, srv.url+path, srv.dialOptions(nil))
		sv = <-accepted
		readDone := make(chan struct{})
		go func() { cl.Read(context.Background()); close(readDone) }()
		sv.CloseNow()
		<-readDone
		ended(path+": CloseNow", sv, StatusAbnormalClosure)
		ended(path+": peer of CloseNow", cl, StatusAbnormalClosure)
	}
}
