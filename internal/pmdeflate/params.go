package pmdeflate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ExtensionName is the token of the permessage-deflate extension (RFC 7692 §7).
const ExtensionName = "permessage-deflate"

const (
	// MinWindowBits is the smallest LZ77 window a peer may ask for (RFC 7692 §7.1.2).
	MinWindowBits = 8
	// MaxWindowBits is the largest LZ77 window, 32 KiB, and the default
	// of a direction without context takeover.
	MaxWindowBits = 15
	// TakeoverWindowBits is the window a server answers, unless the Params
	// it asks for or the offer asks for another, for a direction with
	// context takeover: 4 KiB, which that direction keeps between messages.
	// On streams of small messages a 4 KiB window compresses as well as the
	// 32 KiB one (the nearest few kilobytes hold nearly every match) for an
	// eighth of the memory, on both ends.
	TakeoverWindowBits = 12
)

// The parameter names of RFC 7692 §7.1.
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// Params are permessage-deflate parameters: those one end asks for (as
// websocket.CompressionOptions states them), or those negotiated for a
// connection, whose window bits are always 8..15 (15 when the handshake did
// not mention them). In Params asked for, window bits of 0 ask for nothing
// on a client; on a server they mean TakeoverWindowBits for a direction
// that keeps its context, else 15.
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

// valid reports whether the window bits asked for are 0 or 8..15.
func (p Params) valid() bool {
	return (p.ServerMaxWindowBits == 0 || validBits(p.ServerMaxWindowBits)) &&
		(p.ClientMaxWindowBits == 0 || validBits(p.ClientMaxWindowBits))
}

func validBits(b int) bool { return MinWindowBits <= b && b <= MaxWindowBits }

// bitsOr returns b when it is set, else def.
func bitsOr(b, def int) int {
	if b == 0 {
		return def
	}
	return b
}

// errParams is wrapped by every error about the parameters of one
// permessage-deflate element.
var errParams = errors.New("bad permessage-deflate parameters")

// wireParams are the parameters written in one permessage-deflate element of
// an offer or a response, checked against the grammar of RFC 7692 §7.1.
type wireParams struct {
	serverNoContextTakeover bool
	clientNoContextTakeover bool
	serverMaxWindowBits     int  // 0: absent
	clientMaxWindowBits     int  // 0: absent or given without a value
	clientMaxWindowBitsSeen bool // the parameter is present, with or without a value
}

// parseWireParams rejects unknown and duplicate parameters, values on the
// no_context_takeover parameters, a missing server_max_window_bits value and
// window bits other than "8".."15" (RFC 7692 §7.1: a decimal integer without
// leading zeroes; a quoted form was already unquoted by the parser).
func parseWireParams(ps []Param) (wireParams, error) {
	var w wireParams
	var seen [4]bool
	for _, p := range ps {
		var i int
		switch p.Name {
		case paramServerNoContextTakeover:
			i = 0
		case paramClientNoContextTakeover:
			i = 1
		case paramServerMaxWindowBits:
			i = 2
		case paramClientMaxWindowBits:
			i = 3
		default:
			return wireParams{}, fmt.Errorf("%w: unknown parameter %q", errParams, p.Name)
		}
		if seen[i] {
			return wireParams{}, fmt.Errorf("%w: duplicate parameter %q", errParams, p.Name)
		}
		seen[i] = true
		switch i {
		case 0, 1:
			if p.HasValue {
				return wireParams{}, fmt.Errorf("%w: %s takes no value", errParams, p.Name)
			}
			if i == 0 {
				w.serverNoContextTakeover = true
			} else {
				w.clientNoContextTakeover = true
			}
		case 2:
			b, ok := parseBits(p)
			if !ok || b == 0 {
				return wireParams{}, fmt.Errorf("%w: %s needs a value from 8 to 15", errParams, p.Name)
			}
			w.serverMaxWindowBits = b
		case 3:
			b, ok := parseBits(p)
			if !ok {
				return wireParams{}, fmt.Errorf("%w: %s value must be 8 to 15", errParams, p.Name)
			}
			w.clientMaxWindowBits = b
			w.clientMaxWindowBitsSeen = true
		}
	}
	return w, nil
}

// parseBits returns 0, true for a parameter without a value.
func parseBits(p Param) (int, bool) {
	if !p.HasValue {
		return 0, true
	}
	v := p.Value
	if len(v) == 0 || len(v) > 2 || v[0] == '0' {
		return 0, false
	}
	b, err := strconv.Atoi(v)
	if err != nil || !validBits(b) {
		return 0, false
	}
	return b, true
}

// format writes one permessage-deflate element; bits of 0 leave a window
// parameter out, clientBitsNoValue writes client_max_window_bits bare.
func (w wireParams) format(clientBitsNoValue bool) string {
	var b strings.Builder
	b.WriteString(ExtensionName)
	if w.serverNoContextTakeover {
		b.WriteString("; " + paramServerNoContextTakeover)
	}
	if w.clientNoContextTakeover {
		b.WriteString("; " + paramClientNoContextTakeover)
	}
	if w.serverMaxWindowBits != 0 {
		b.WriteString("; " + paramServerMaxWindowBits + "=" + strconv.Itoa(w.serverMaxWindowBits))
	}
	switch {
	case w.clientMaxWindowBits != 0:
		b.WriteString("; " + paramClientMaxWindowBits + "=" + strconv.Itoa(w.clientMaxWindowBits))
	case clientBitsNoValue:
		b.WriteString("; " + paramClientMaxWindowBits)
	}
	return b.String()
}
