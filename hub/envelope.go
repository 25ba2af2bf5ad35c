package hub

import (
	"encoding/base64"
	"unicode/utf8"

	"github.com/duplexws/websocket"
)

// envelope returns the message a positioned subscriber (see
// [SubscribeOptions.Positions]) receives for m at pos: one text message
// holding {"pos":"EPOCH:SEQ","text":"…"} or {"pos":"EPOCH:SEQ","binary":"<base64>"};
// "pos" is left out for a topic without history.
func envelope(pos Position, m Message) *websocket.PreparedMessage {
	b := make([]byte, 0, len(m.Data)+len(m.Data)/3+48)
	b = append(b, '{')
	if !pos.IsZero() {
		b = append(b, `"pos":"`...)
		b = append(b, pos.String()...)
		b = append(b, `",`...)
	}
	if m.messageType() == websocket.MessageBinary {
		b = append(b, `"binary":"`...)
		b = base64.StdEncoding.AppendEncode(b, m.Data)
		b = append(b, '"')
	} else {
		b = append(b, `"text":`...)
		b = appendJSONString(b, m.Data)
	}
	b = append(b, '}')
	return websocket.NewPreparedMessage(websocket.MessageText, b)
}

// resetEnvelope returns the message that tells a positioned subscriber its
// history could not be recovered: {"reset":true,"pos":"EPOCH:SEQ"}, pos
// being where the live stream goes on from.
func resetEnvelope(pos Position) *websocket.PreparedMessage {
	return websocket.NewPreparedMessage(websocket.MessageText, []byte(`{"reset":true,"pos":"`+pos.String()+`"}`))
}

// hexDigits writes the \u00XX escapes of control characters.
const hexDigits = "0123456789abcdef"

// appendJSONString appends s to b as a JSON string, as encoding/json would
// without its HTML escapes: quotes, backslashes and control characters
// escaped, invalid UTF-8 replaced by U+FFFD. It copies runs that need no
// escape whole, so a plain message costs one copy.
func appendJSONString(b, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
