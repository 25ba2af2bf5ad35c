package bench

import (
	"context"
	"io"
	"net/http"
	"sync"

	"github.com/duplexws/websocket"
)

// streamChunk is the size of the buffer Duplex's streaming echo copies a
// message through: far below the message, so that what the server holds
// for a message is Duplex's own buffers, not the handler's.
const streamChunk = 1024

// streamBuffers holds the copy buffers of the streaming echo.
var streamBuffers = sync.Pool{New: func() any { return new([streamChunk]byte) }}

// streamEcho returns the handler of /stream for lib: for Duplex, in
// goroutine and engine mode, an echo that streams each message back through
// Writer as it is read (a message is never held whole); for every other
// library its /echo handler, which buffers the whole message.
func streamEcho(lib string, s libServer) http.Handler {
	switch lib {
	case "duplex":
		opts := &websocket.AcceptOptions{ReadLimit: maxMessage}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, opts)
			if err != nil {
				return
			}
			defer c.CloseNow()
			for {
				typ, rd, err := c.Reader(r.Context())
				if err != nil {
					return
				}
				if err := streamMessage(c, typ, rd); err != nil {
					return
				}
			}
		})
	case "duplex-engine":
		// The engine is made at the first request, so that a process
		// that never serves /stream keeps its start-up as it was.
		engine := sync.OnceValues(func() (*websocket.Engine, error) {
			return websocket.NewEngine(&websocket.EngineOptions{
				OnMessage: func(c *websocket.Conn, typ websocket.MessageType, r io.Reader) {
					if streamMessage(c, typ, r) != nil {
						c.CloseNow()
					}
				},
			})
		})
		opts := &websocket.AcceptOptions{ReadLimit: maxMessage}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e, err := engine()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			c, err := websocket.Accept(w, r, opts)
			if err != nil {
				return
			}
			if err := e.Serve(c); err != nil {
				c.CloseNow()
			}
		})
	}
	return s.echo
}

// streamMessage writes the message r reads back to c as a message of type
// typ, a chunk at a time, opening the writer when the first bytes are read.
func streamMessage(c *websocket.Conn, typ websocket.MessageType, r io.Reader) error {
	buf := streamBuffers.Get().(*[streamChunk]byte)
	defer streamBuffers.Put(buf)
	ctx := context.Background()
	var w io.WriteCloser
	for {
		n, err := r.Read(buf[:])
		if n > 0 || err == io.EOF && w == nil {
			if w == nil {
				var werr error
				if w, werr = c.Writer(ctx, typ); werr != nil {
					return werr
				}
			}
			if _, werr := w.Write(buf[:n]); werr != nil {
				w.Close()
				return werr
			}
		}
		if err == io.EOF {
			return w.Close()
		}
		if err != nil {
			if w != nil {
				w.Close()
			}
			return err
		}
	}
}
