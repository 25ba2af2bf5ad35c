package pmdeflate

import (
	"errors"
	"fmt"
)

// ExtensionName is the token of the permessage-deflate extension (RFC 7692 §7).
const ExtensionName = "permessage-deflate"

const (
	// MinWindowBits is the smallest LZ77 window a peer may ask for (RFC 7692 §7.1.2).
	MinWindowBits = 8
	// MaxWindowBits is the largest LZ77 window, 32 KiB, and the default
	// of a direction without context takeover.
	MaxWindowBits = 15
	// TakeoverWindowBits is the window a server answers, unless its Config
	// or the offer asks for another, for a direction with context
	// takeover: 4 KiB, which that direction keeps between messages. On
	// streams of small messages a 4 KiB window compresses as well as the
	// 32 KiB one (the nearest few kilobytes hold nearly every match) for
	// an eighth of the memory, on both ends.
	TakeoverWindowBits = 12
)

// The parameter names of RFC 7692 §7.1.
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// Config is what one end asks for; it mirrors websocket.CompressionOptions.
type Config struct {
	// ServerNoContextTakeover asks that the server compress every message on
	// its own.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover asks that the client compress every message on
	// its own.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits asks for a server LZ77 window of at most 2^bits
	// bytes (8..15). 0 asks for nothing on a client; on a server it means
	// TakeoverWindowBits when the server keeps its context, else 15.
	ServerMaxWindowBits int
	// ClientMaxWindowBits asks for a client LZ77 window of at most 2^bits
	// bytes (8..15). 0 asks for nothing on a client; on a server it means
	// TakeoverWindowBits when the client keeps its context and offered
	// client_max_window_bits, else 15.
	ClientMaxWindowBits int
	// Level is the flate level, 1 (fastest) to 9; 0 means 1.
	Level int
	// Threshold is the size below which a message is sent uncompressed:
	// 0 means 128 bytes, -1 compresses every message.
	Threshold int
}

// defaultThreshold is the message size below which compression rarely pays:
// the deflate block header and the Huffman tables outweigh the savings.
const defaultThreshold = 128

// ErrConfig is wrapped by the errors Config.Validate returns.
var ErrConfig = errors.New("pmdeflate: invalid compression options")

// Validate reports an error wrapping ErrConfig when a field is out of range.
func (c Config) Validate() error {
	if c.ServerMaxWindowBits != 0 && !validBits(c.ServerMaxWindowBits) {
		return fmt.Errorf("%w: ServerMaxWindowBits %d is not 0 or 8..15", ErrConfig, c.ServerMaxWindowBits)
	}
	if c.ClientMaxWindowBits != 0 && !validBits(c.ClientMaxWindowBits) {
		return fmt.Errorf("%w: ClientMaxWindowBits %d is not 0 or 8..15", ErrConfig, c.ClientMaxWindowBits)
	}
	if c.Level < 0 || c.Level > 9 {
		return fmt.Errorf("%w: Level %d is not 0..9", ErrConfig, c.Level)
	}
	if c.Threshold < -1 {
		return fmt.Errorf("%w: Threshold %d is below -1", ErrConfig, c.Threshold)
	}
	return nil
}

// ShouldCompress reports whether a message of n bytes is worth compressing
// under c.Threshold.
func (c Config) ShouldCompress(n int) bool {
	switch {
	case c.Threshold < 0:
		return true
	case c.Threshold == 0:
		return n >= defaultThreshold
	}
	return n >= c.Threshold
}

// Params are the negotiated permessage-deflate parameters of one connection.
// Window bits are always 8..15 in a negotiated Params (15 when the handshake
// did not mention them).
type Params struct {
	// ServerNoContextTakeover: the server compresses each message on its own.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client compresses each message on its own.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits bounds the distance of the server's back-references.
	ServerMaxWindowBits int
	// ClientMaxWindowBits bounds the distance of the client's back-references.
	ClientMaxWindowBits int
}

func validBits(b int) bool { return MinWindowBits <= b && b <= MaxWindowBits }

// bitsOr returns b when it is set, else def.
func bitsOr(b, def int) int {
	if b == 0 {
		return def
	}
	return b
}
