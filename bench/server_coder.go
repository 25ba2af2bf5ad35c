package bench

import (
	"net/http"

	"github.com/coder/websocket"
)

// newCoderServer returns coder/websocket's server: Accept and a Read/Write
// loop for echo.
func newCoderServer(mode compressMode) libServer {
	opts := &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled}
	switch mode {
	case compressTakeover:
		opts.CompressionMode = websocket.CompressionContextTakeover
	case compressNoTakeover:
		opts.CompressionMode = websocket.CompressionNoContextTakeover
	}
	return libServer{
		echo: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, opts)
			if err != nil {
				return
			}
			defer c.CloseNow()
			c.SetReadLimit(maxMessage)
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
	}
}
