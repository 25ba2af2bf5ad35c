package bench

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
)

// echoBuffers holds the buffers Duplex's echo server reads messages into.
var echoBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// newDuplexServer returns Duplex's server: Accept and a Read/Write loop for
// echo, and the hub package for fan-out.
func newDuplexServer(mode compressMode) libServer {
	opts := &websocket.AcceptOptions{ReadLimit: maxMessage}
	switch mode {
	case compressTakeover:
		opts.Compression = &websocket.CompressionOptions{}
	case compressNoTakeover:
		opts.Compression = &websocket.CompressionOptions{
			ServerNoContextTakeover: true,
			ClientNoContextTakeover: true,
		}
	}
	h := hub.New(nil)
	return libServer{
		echo: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, opts)
			if err != nil {
				return
			}
			defer c.CloseNow()
			ctx := r.Context()
			for {
				// Reader into a pooled buffer reads a message without
				// allocating, as gws's and gobwas's servers here do; Read
				// would return a new slice per message.
				typ, rd, err := c.Reader(ctx)
				if err != nil {
					return
				}
				buf := echoBuffers.Get().(*bytes.Buffer)
				buf.Reset()
				_, err = buf.ReadFrom(rd)
				if err == nil {
					err = c.Write(ctx, typ, buf.Bytes())
				}
				echoBuffers.Put(buf)
				if err != nil {
					return
				}
			}
		}),
		sub: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, opts)
			if err != nil {
				return
			}
			defer c.CloseNow()
			ctx := r.Context()
			sub, err := h.Subscribe(ctx, c, fanoutTopic)
			if err != nil {
				c.Close(websocket.StatusInternalError, "cannot subscribe")
				return
			}
			defer sub.Close()
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		}),
		pub: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, opts)
			if err != nil {
				return
			}
			defer c.CloseNow()
			ctx := r.Context()
			for {
				typ, p, err := c.Read(ctx)
				if err != nil {
					return
				}
				if err := h.Publish(ctx, fanoutTopic, hub.Message{Type: typ, Data: p}); err != nil {
					return
				}
			}
		}),
		subscribers: func() int { return h.Stats().Subscribers },
	}
}
