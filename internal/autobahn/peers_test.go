package autobahn

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// gorillaEcho is an echo server built on gorilla/websocket, as in
// gorilla's own Autobahn example: a reference peer for the suite's
// judgement. Gorilla does not check UTF-8; with validate, the handler
// checks each whole text message and fails the connection with 1007,
// which is correct but not fail-fast.
func gorillaEcho(validate bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { echoGorilla(w, r, validate) }
}

func echoGorilla(w http.ResponseWriter, r *http.Request, validate bool) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		typ, p, err := c.ReadMessage()
		if err != nil {
			return
		}
		if validate && typ == websocket.TextMessage && !utf8.Valid(p) {
			msg := websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, "")
			c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			return
		}
		if err := c.WriteMessage(typ, p); err != nil {
			return
		}
	}
}

// wsURL serves h and returns its ws:// URL.
func wsURL(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// laxEcho is a deliberately broken server on the suite's own codec: it
// sends back every frame it gets, unmasked, checking nothing (RSV bits,
// opcodes, fragmentation), and answers a close with the same close.
func laxEcho(w http.ResponseWriter, r *http.Request) {
	h, err := acceptHandshake(w, r, nil)
	if err != nil {
		return
	}
	defer h.conn.Close()
	for {
		f, err := readFrame(h.br, 64<<20)
		if err != nil {
			return
		}
		if f.Opcode == opPing {
			f.Opcode = opPong
		}
		if _, err := h.conn.Write(appendFrame(nil, f, false, [4]byte{})); err != nil || f.Opcode == opClose {
			return
		}
	}
}

// deafEcho is a broken gorilla echo server that never answers pings.
func deafEcho(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetPingHandler(func(string) error { return nil })
	for {
		typ, p, err := c.ReadMessage()
		if err != nil {
			return
		}
		c.WriteMessage(typ, p)
	}
}
