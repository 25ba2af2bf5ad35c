package websocket

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/duplexws/websocket/internal/pmdeflate"
)

// CompressionOptions enables permessage-deflate (RFC 7692) and sets its
// parameters. A nil *CompressionOptions in AcceptOptions or DialOptions turns
// compression off; a zero value enables it with the defaults below, which
// compress with context takeover in both directions, as browsers do.
//
// Under context takeover each end keeps, per connection and direction, the
// last 2^bits bytes of that direction's messages (its LZ77 window) between
// messages. A server answers a 4 KiB window (12 bits) for each direction
// that keeps its context unless told otherwise: on streams of small messages
// (1 KiB JSON events) it compresses as well as the 32 KiB window, for an
// eighth of the memory on both ends (bench/RESULTS.md has the figures). Set
// ServerMaxWindowBits and ClientMaxWindowBits to 15 for the 32 KiB windows,
// which pay off on long messages that repeat each other from farther back.
//
// A server accepts the first offer it can honour exactly and declines the
// others; a client fails the handshake when the server answers with anything
// it did not offer. The deprecated deflate-stream and x-webkit-deflate-frame
// extensions are never accepted.
type CompressionOptions struct {
	// ServerNoContextTakeover makes the server compress every message on its
	// own: no compression state is kept between messages, at some cost in
	// ratio. A client offers it; a server always answers with it.
	ServerNoContextTakeover bool

	// ClientNoContextTakeover does the same for the client's messages.
	ClientNoContextTakeover bool

	// ServerMaxWindowBits limits the server's LZ77 window to 2^bits bytes
	// (8–15): the memory each end keeps for that direction under context
	// takeover, and the client's decompression window. On a client zero
	// asks for nothing; on a server zero answers 12 (4 KiB) when the server
	// keeps its context and 15 (32 KiB) when it does not.
	ServerMaxWindowBits int

	// ClientMaxWindowBits limits the client's window likewise (8–15). On a
	// client zero offers client_max_window_bits without a value, letting
	// the server choose; on a server zero answers 12 when the client keeps
	// its context and offered the parameter (browsers do), else 15.
	ClientMaxWindowBits int

	// Level is the flate compression level, 1 (fastest) to 9, of a 32 KiB
	// window. Zero means 1. A smaller window is compressed by klauspost's
	// window-bounded compressor, which searches as level 5 does, whatever
	// the level.
	Level int

	// Threshold is the size in bytes below which a message is sent
	// uncompressed: 128 when zero; -1 compresses every message. A message
	// streamed through Conn.Writer is held back until it reaches Threshold
	// bytes (or fills the write buffer) and goes out uncompressed if it
	// ends before.
	Threshold int
}

func (o *CompressionOptions) config() pmdeflate.Config {
	return pmdeflate.Config{
		ServerNoContextTakeover: o.ServerNoContextTakeover,
		ClientNoContextTakeover: o.ClientNoContextTakeover,
		ServerMaxWindowBits:     o.ServerMaxWindowBits,
		ClientMaxWindowBits:     o.ClientMaxWindowBits,
		Level:                   o.Level,
		Threshold:               o.Threshold,
	}
}

// compression is the permessage-deflate state of one connection.
type compression struct {
	st  *pmdeflate.State
	cfg pmdeflate.Config
}

// compressionOffer is the Sec-WebSocket-Extensions value a client sends.
func compressionOffer(o *CompressionOptions) string { return pmdeflate.Offer(o.config()) }

// acceptCompression negotiates permessage-deflate on the server and returns
// the Sec-WebSocket-Extensions answer, or "" when no offer was accepted.
func acceptCompression(h http.Header, o *CompressionOptions) (*compression, string) {
	if o == nil {
		return nil, ""
	}
	cfg := o.config()
	p, answer, ok := pmdeflate.Negotiate(h.Values("Sec-WebSocket-Extensions"), cfg)
	if !ok {
		return nil, ""
	}
	return &compression{st: pmdeflate.NewState(p, true, cfg.Level), cfg: cfg}, answer
}

// dialCompression checks the server's Sec-WebSocket-Extensions answer.
func dialCompression(h http.Header, o *CompressionOptions) (*compression, error) {
	values := h.Values("Sec-WebSocket-Extensions")
	if o == nil {
		if len(values) > 0 {
			return nil, fmt.Errorf("server answered with extensions %q, none of which were offered", strings.Join(values, ", "))
		}
		return nil, nil
	}
	cfg := o.config()
	p, ok, err := pmdeflate.ParseAnswer(values, cfg)
	if err != nil || !ok {
		return nil, err
	}
	return &compression{st: pmdeflate.NewState(p, false, cfg.Level), cfg: cfg}, nil
}

// reader starts decompressing a message read from src, delivering at most
// limit bytes (no limit when negative).
func (c *compression) reader(src io.Reader, limit int64) *pmdeflate.Reader {
	return c.st.Reader(src, limit)
}

// worthCompressing reports whether a message of n bytes is sent compressed.
func (c *compression) worthCompressing(n int) bool { return c.cfg.ShouldCompress(n) }

// appendMessage appends the compressed payload of message p.
func (c *compression) appendMessage(dst, p []byte) []byte { return c.st.AppendCompressed(dst, p) }

// writer compresses a streamed message into dst.
func (c *compression) writer(dst io.Writer) io.WriteCloser { return c.st.Writer(dst) }

// variant names the compressed form of prepared messages this connection
// sends; sent records that one went out.
func (c *compression) variant() frameVariant {
	v := c.st.Variant()
	return frameVariant{compressed: true, level: v.Level, windowBits: v.WindowBits}
}

func (c *compression) sent(p []byte) { c.st.Sent(p) }
