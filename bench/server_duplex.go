package bench

import (
	"net/http"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
)

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
				typ, p, err := c.Read(ctx)
				if err != nil {
					return
				}
				if err := c.Write(ctx, typ, p); err != nil {
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
