package websocket

import (
	"fmt"
	"net/http"

	"github.com/duplexws/websocket/internal/pmdeflate"
	"github.com/duplexws/websocket/internal/wshttp"
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
	// streamed through [Conn.Writer] is held back until it reaches Threshold
	// bytes (or fills the write buffer) and goes out uncompressed if it
	// ends before.
	Threshold int
}

// validate reports a field out of range. Dial calls it before anything else
// reads the options, and Accept once per AcceptOptions (see
// [AcceptOptions.compression]), so nothing after them checks again.
func (o *CompressionOptions) validate() error {
	validBits := func(b int) bool { return b == 0 || pmdeflate.MinWindowBits <= b && b <= pmdeflate.MaxWindowBits }
	switch {
	case !validBits(o.ServerMaxWindowBits):
		return fmt.Errorf("ServerMaxWindowBits %d is not 0 or 8..15", o.ServerMaxWindowBits)
	case !validBits(o.ClientMaxWindowBits):
		return fmt.Errorf("ClientMaxWindowBits %d is not 0 or 8..15", o.ClientMaxWindowBits)
	case o.Level < 0 || o.Level > 9:
		return fmt.Errorf("Level %d is not 0..9", o.Level)
	case o.Threshold < -1:
		return fmt.Errorf("Threshold %d is below -1", o.Threshold)
	}
	return nil
}

// params are the permessage-deflate parameters this end asks for: the
// options' words in the protocol's terms, translated here and nowhere else.
func (o *CompressionOptions) params() pmdeflate.Params {
	return pmdeflate.Params{
		ServerNoContextTakeover: o.ServerNoContextTakeover,
		ClientNoContextTakeover: o.ClientNoContextTakeover,
		ServerMaxWindowBits:     o.ServerMaxWindowBits,
		ClientMaxWindowBits:     o.ClientMaxWindowBits,
	}
}

// defaultThreshold is the message size below which compression rarely
// pays: the deflate block header and Huffman tables outweigh the savings.
const defaultThreshold = 128

// threshold is the smallest message sent compressed, the default applied.
func (o *CompressionOptions) threshold() int {
	switch {
	case o.Threshold < 0:
		return 0
	case o.Threshold == 0:
		return defaultThreshold
	}
	return o.Threshold
}

// acceptCompression negotiates permessage-deflate on the server and returns
// the connection's compression state (nil without compression) and the
// Sec-WebSocket-Extensions answer, "" when no offer was accepted. o has
// been validated.
func acceptCompression(h http.Header, o *CompressionOptions) (*pmdeflate.State, string) {
	if o == nil {
		return nil, ""
	}
	return pmdeflate.Accept(wshttp.Values(h, "Sec-WebSocket-Extensions"), o.params(), o.Level)
}

// dialCompression checks the server's Sec-WebSocket-Extensions answer and
// returns the connection's compression state, nil without compression. o
// has been validated.
func dialCompression(h http.Header, o *CompressionOptions) (*pmdeflate.State, error) {
	if o == nil {
		return nil, pmdeflate.Unoffered(wshttp.Values(h, "Sec-WebSocket-Extensions"))
	}
	return pmdeflate.Answered(wshttp.Values(h, "Sec-WebSocket-Extensions"), o.params(), o.Level)
}

// compresses reports whether a message of n bytes goes out compressed.
func (c *Conn) compresses(n int) bool { return c.comp != nil && n >= c.rare.Load().compressFrom }
