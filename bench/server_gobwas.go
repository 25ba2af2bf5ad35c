package bench

import (
	"bufio"
	"io"
	"net/http"

	"github.com/gobwas/ws"
)

// newGobwasServer returns gobwas/ws's server: UpgradeHTTP and an echo loop on
// its frame API, reading headers and writing them through buffers of the
// connection's own so that a message costs no allocation.
func newGobwasServer() libServer {
	return libServer{
		echo: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, rw, _, err := ws.UpgradeHTTP(r, w)
			if err != nil {
				return
			}
			defer conn.Close()
			br := rw.Reader
			bw := rw.Writer
			if br == nil {
				br = bufio.NewReader(conn)
			}
			if bw == nil {
				bw = bufio.NewWriter(conn)
			}
			gobwasEcho(br, bw)
		}),
	}
}

// gobwasEcho echoes every message read from br to bw until the connection
// fails or the client closes it. Fragmented messages are gathered and sent
// back as one frame; pings are answered.
func gobwasEcho(br *bufio.Reader, bw *bufio.Writer) {
	var (
		hbuf [ws.MaxHeaderSize]byte
		msg  []byte
		op   ws.OpCode
	)
	for {
		h, err := ws.ReadHeaderBuffer(br, hbuf[:])
		if err != nil {
			return
		}
		if h.Length > maxMessage || int64(len(msg))+h.Length > maxMessage {
			return
		}
		if h.OpCode.IsControl() {
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(br, p); err != nil {
				return
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			switch h.OpCode {
			case ws.OpClose:
				ws.WriteFrame(bw, ws.NewCloseFrame(p))
				bw.Flush()
				return
			case ws.OpPing:
				if ws.WriteFrame(bw, ws.NewPongFrame(p)) != nil || bw.Flush() != nil {
					return
				}
			}
			continue
		}
		if h.OpCode != ws.OpContinuation {
			op = h.OpCode
			msg = msg[:0]
		}
		start := len(msg)
		msg = append(msg, make([]byte, h.Length)...)
		p := msg[start:]
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
		}
		if !h.Fin {
			continue
		}
		out := ws.Header{Fin: true, OpCode: op, Length: int64(len(msg))}
		if ws.WriteHeaderBuffer(bw, out, hbuf[:]) != nil {
			return
		}
		if _, err := bw.Write(msg); err != nil {
			return
		}
		if bw.Flush() != nil {
			return
		}
	}
}
