package legacy

import "unicode/utf8"

// utf8Stream checks that a text message arriving in pieces is UTF-8 as a
// whole, failing as soon as a byte makes that impossible: a rune may be split
// across pieces, so up to three bytes of an unfinished rune are held back.
type utf8Stream struct {
	held [utf8.UTFMax]byte
	n    int
}

// write feeds the next piece and reports whether the text so far can still
// be the start of valid UTF-8.
func (s *utf8Stream) write(p []byte) bool {
	for s.n > 0 && len(p) > 0 {
		s.held[s.n] = p[0]
		s.n++
		p = p[1:]
		if utf8.FullRune(s.held[:s.n]) {
			r, size := utf8.DecodeRune(s.held[:s.n])
			if r == utf8.RuneError && size == 1 {
				return false
			}
			s.n = 0
		}
	}
	if len(p) == 0 {
		return true
	}
	// Hold back an unfinished rune at the end; utf8.FullRune already reports
	// a prefix that can never become valid as full, so it is judged now.
	body := p
	for i := len(p) - 1; i >= 0 && i >= len(p)-(utf8.UTFMax-1); i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				body = p[:i]
				s.n = copy(s.held[:], p[i:])
			}
			break
		}
	}
	return utf8.Valid(body)
}

// end reports whether the text ended on a rune boundary.
func (s *utf8Stream) end() bool {
	return s.n == 0
}

// reset prepares the stream for the next message.
func (s *utf8Stream) reset() {
	s.n = 0
}
