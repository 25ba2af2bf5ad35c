package pmdeflate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// errParams is wrapped by every error about the parameters of one
// permessage-deflate element.
var errParams = errors.New("pmdeflate: bad permessage-deflate parameters")

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
