package bench

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
)

// newDuplexEngineServer returns Duplex's event-driven server: Accept, then
// Engine.Serve, the handler returning at once; each message is read into a
// pooled buffer and written back from OnMessage. Fan-out goes through the
// hub: a subscriber is attached to its connection and handed to an engine
// that reads it, so an idle subscriber holds no goroutine; a publisher's
// messages are published from OnMessage.
func newDuplexEngineServer() (libServer, error) {
	echo, err := websocket.NewEngine(&websocket.EngineOptions{
		KeepAlive: -1, // as the other servers' listeners (serveChild)
		OnMessage: func(c *websocket.Conn, typ websocket.MessageType, r io.Reader) {
			buf := echoBuffers.Get().(*bytes.Buffer)
			buf.Reset()
			if _, err := buf.ReadFrom(r); err == nil {
				c.Write(context.Background(), typ, buf.Bytes())
			}
			echoBuffers.Put(buf)
		},
	})
	if err != nil {
		return libServer{}, err
	}
	h := hub.New(nil)
	subs, err := websocket.NewEngine(&websocket.EngineOptions{
		OnMessage: func(*websocket.Conn, websocket.MessageType, io.Reader) {}, // subscribers only listen
	})
	if err != nil {
		return libServer{}, err
	}
	pubs, err := websocket.NewEngine(&websocket.EngineOptions{
		OnMessage: func(c *websocket.Conn, typ websocket.MessageType, r io.Reader) {
			p, err := io.ReadAll(r) // the hub keeps the message while subscribers' queues hold it
			if err != nil {
				return
			}
			if err := h.Publish(context.Background(), fanoutTopic, hub.Message{Type: typ, Data: p}); err != nil {
				c.Close(websocket.StatusInternalError, "cannot publish")
			}
		},
	})
	if err != nil {
		return libServer{}, err
	}
	opts := &websocket.AcceptOptions{ReadLimit: maxMessage}
	// serve accepts a connection and hands it to e; the handler returns.
	serve := func(e *websocket.Engine, attach func(c *websocket.Conn) error) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, opts)
			if err != nil {
				return
			}
			if attach != nil {
				if err := attach(c); err != nil {
					c.Close(websocket.StatusInternalError, "cannot subscribe")
					return
				}
			}
			if err := e.Serve(c); err != nil {
				c.CloseNow()
			}
		})
	}
	return libServer{
		echo: serve(echo, nil),
		// The subscriber ends with its connection (hub.Conn's Context).
		sub: serve(subs, func(c *websocket.Conn) error {
			_, err := h.Subscribe(context.Background(), c, fanoutTopic)
			return err
		}),
		pub:         serve(pubs, nil),
		subscribers: func() int { return h.Stats().Subscribers },
		// For -accept: the echo engine accepts the sockets itself, and
		// adopts those that /echo hands it; the other paths' engines
		// serve theirs with a goroutine each.
		serve: func(ln net.Listener, h http.Handler) (func(), error) {
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			go echo.ServeUpgrades(srv, ln)
			return func() { srv.Close() }, nil
		},
	}, nil
}
