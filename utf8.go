package websocket

import "encoding/binary"

// utf8Validator checks UTF-8 incrementally, so that text split across frames
// and reads is validated as it arrives and fails at the first byte that can
// no longer start or continue a valid sequence (RFC 6455 §8.1, fail fast).
type utf8Validator struct {
	need   int  // continuation bytes still expected
	lo, hi byte // allowed range of the next continuation byte
}

// write reports whether p continues a valid UTF-8 text.
func (v *utf8Validator) write(p []byte) bool {
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

// complete reports whether the text seen so far ends on a character boundary.
func (v *utf8Validator) complete() bool { return v.need == 0 }

// reset prepares the validator for a new text.
func (v *utf8Validator) reset() { *v = utf8Validator{} }

// validUTF8 reports whether p is valid UTF-8 on its own.
func validUTF8(p []byte) bool {
	var v utf8Validator
	return v.write(p) && v.complete()
}
