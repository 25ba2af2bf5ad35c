// Package utf8stream validates UTF-8 text that arrives in pieces, as the
// frames of a WebSocket text message do, failing at the first byte after
// which the text can no longer be valid.
package utf8stream

import "encoding/binary"

// Validator checks UTF-8 incrementally, so that text split across frames
// and reads is validated as it arrives and fails at the first byte that can
// no longer start or continue a valid sequence (RFC 6455 §8.1, fail fast).
// The zero value is ready for a new text.
type Validator struct {
	need   int  // continuation bytes still expected
	lo, hi byte // allowed range of the next continuation byte
}

// Write reports whether p continues a valid UTF-8 text.
func (v *Validator) Write(p []byte) bool {
	i := 0
	for i < len(p) {
		if v.need > 0 {
			c := p[i]
			if c < v.lo || c > v.hi {
				return false
			}
			i++
			v.need--
			v.lo, v.hi = 0x80, 0xBF
			continue
		}
		for i+8 <= len(p) && binary.LittleEndian.Uint64(p[i:])&0x8080808080808080 == 0 {
			i += 8
		}
		if i == len(p) {
			break
		}
		c := p[i]
		i++
		switch {
		case c < 0x80:
		case c < 0xC2:
			return false
		case c < 0xE0:
			v.need, v.lo, v.hi = 1, 0x80, 0xBF
		case c == 0xE0:
			v.need, v.lo, v.hi = 2, 0xA0, 0xBF // no overlong forms
		case c == 0xED:
			v.need, v.lo, v.hi = 2, 0x80, 0x9F // no surrogates
		case c < 0xF0:
			v.need, v.lo, v.hi = 2, 0x80, 0xBF
		case c == 0xF0:
			v.need, v.lo, v.hi = 3, 0x90, 0xBF // no overlong forms
		case c < 0xF4:
			v.need, v.lo, v.hi = 3, 0x80, 0xBF
		case c == 0xF4:
			v.need, v.lo, v.hi = 3, 0x80, 0x8F // nothing above U+10FFFF
		default:
			return false
		}
	}
	return true
}

// Complete reports whether the text seen so far ends on a character boundary.
func (v *Validator) Complete() bool { return v.need == 0 }

// Reset prepares the validator for a new text.
func (v *Validator) Reset() { *v = Validator{} }
