package autobahn

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

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
