package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/duplexws/websocket"
)

// newDuplexEngineServer returns Duplex's event-driven server: Accept, then
// Engine.Serve, the handler returning at once; each message is read into a
// pooled buffer and written back from OnMessage.
func newDuplexEngineServer() (libServer, error) {
	e, err := websocket.NewEngine(&websocket.EngineOptions{
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
	opts := &websocket.AcceptOptions{ReadLimit: maxMessage}
	return libServer{
		echo: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, err := websocket.Accept(w, r, opts); err == nil {
				e.Serve(c)
			}
		}),
	}, nil
}
