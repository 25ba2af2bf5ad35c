package pmdeflate

import (
	"errors"
	"fmt"
	"strings"
)

// Offer returns the client's Sec-WebSocket-Extensions value for want. The zero
// Params gives "permessage-deflate; client_max_window_bits", what browsers
// send. client_max_window_bits is always offered (with want's value when set),
// since any window the server picks can be honoured.
func Offer(want Params) string {
	return wireParams{
		serverNoContextTakeover: want.ServerNoContextTakeover,
		clientNoContextTakeover: want.ClientNoContextTakeover,
		serverMaxWindowBits:     want.ServerMaxWindowBits,
		clientMaxWindowBits:     want.ClientMaxWindowBits,
	}.format(true)
}

// ErrAnswer is wrapped by the errors ParseAnswer returns; the client must
// then fail the connection (RFC 6455 §9.1).
var ErrAnswer = errors.New("server's Sec-WebSocket-Extensions answer is not acceptable")

// ParseAnswer checks the server's Sec-WebSocket-Extensions values against the
// offer Offer(want) made. ok is false, with a nil error, when the server
// accepted no extension. It is an error when the server accepted an extension
// that was not offered, more than one, unknown or duplicate parameters,
// invalid values, a server_max_window_bits above the one asked for (or none
// when one below 15 was asked for), a client_max_window_bits without a value
// or above the one offered, or left out a requested server_no_context_takeover.
func ParseAnswer(values []string, want Params) (p Params, ok bool, err error) {
	exts, err := ParseExtensions(values)
	if err != nil {
		return Params{}, false, fmt.Errorf("%w: %w", ErrAnswer, err)
	}
	if len(exts) == 0 {
		return Params{}, false, nil
	}
	if len(exts) > 1 {
		return Params{}, false, fmt.Errorf("%w: %d extensions accepted, one was offered", ErrAnswer, len(exts))
	}
	if exts[0].Name != ExtensionName {
		return Params{}, false, fmt.Errorf("%w: extension %q was not offered", ErrAnswer, exts[0].Name)
	}
	w, err := parseWireParams(exts[0].Params)
	if err != nil {
		return Params{}, false, fmt.Errorf("%w: %w", ErrAnswer, err)
	}
	if want.ServerNoContextTakeover && !w.serverNoContextTakeover {
		return Params{}, false, fmt.Errorf("%w: server_no_context_takeover was requested but not granted", ErrAnswer)
	}
	asked := bitsOr(want.ServerMaxWindowBits, MaxWindowBits)
	p.ServerMaxWindowBits = MaxWindowBits
	switch {
	case w.serverMaxWindowBits > asked:
		return Params{}, false, fmt.Errorf("%w: server_max_window_bits=%d is above the %d requested", ErrAnswer, w.serverMaxWindowBits, asked)
	case w.serverMaxWindowBits != 0:
		p.ServerMaxWindowBits = w.serverMaxWindowBits
	case asked < MaxWindowBits:
		return Params{}, false, fmt.Errorf("%w: server_max_window_bits=%d was requested but not granted", ErrAnswer, asked)
	}
	offered := bitsOr(want.ClientMaxWindowBits, MaxWindowBits)
	p.ClientMaxWindowBits = offered
	if w.clientMaxWindowBitsSeen {
		switch {
		case w.clientMaxWindowBits == 0:
			return Params{}, false, fmt.Errorf("%w: client_max_window_bits needs a value in a response", ErrAnswer)
		case w.clientMaxWindowBits > offered:
			return Params{}, false, fmt.Errorf("%w: client_max_window_bits=%d is above the %d offered", ErrAnswer, w.clientMaxWindowBits, offered)
		}
		p.ClientMaxWindowBits = w.clientMaxWindowBits
	}
	p.ServerNoContextTakeover = w.serverNoContextTakeover
	// Compressing each message on its own is always allowed.
	p.ClientNoContextTakeover = w.clientNoContextTakeover || want.ClientNoContextTakeover
	return p, true, nil
}

// Answered checks the server's Sec-WebSocket-Extensions values as
// ParseAnswer does and returns the client's State of the connection, nil
// when the server accepted no extension. level is the flate level.
func Answered(values []string, want Params, level int) (*State, error) {
	p, ok, err := ParseAnswer(values, want)
	if err != nil || !ok {
		return nil, err
	}
	return NewState(p, false, level), nil
}

// Unoffered checks the server's Sec-WebSocket-Extensions values when the
// client offered no extension: there must be none.
func Unoffered(values []string) error {
	if len(values) > 0 {
		return fmt.Errorf("server answered with extensions %q, none of which were offered", strings.Join(values, ", "))
	}
	return nil
}
