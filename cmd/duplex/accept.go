package main

import (
	"net/http"

	"github.com/duplexws/websocket"
)

// accept answers the WebSocket handshake of /echo.
func (h *echoHandler) accept(w http.ResponseWriter, r *http.Request) (messageConn, error) {
	return websocket.Accept(w, r, h.opts)
}
