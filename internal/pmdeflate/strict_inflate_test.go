package pmdeflate

import (
	"errors"
	"fmt"
)

// strictInflater is a small, slow, independent DEFLATE decoder (RFC 1951)
// used to check what the compressor emits: it fails on any back-reference
// farther than the negotiated window or than the history the peer holds.
type strictInflater struct {
	window   int  // 2^bits
	takeover bool // history carries over between messages
	out      []byte
	maxDist  int

	in     []byte
	pos    int
	bitbuf uint32
	bitcnt uint
}

var errStrict = errors.New("strict inflate")

// message inflates one permessage-deflate payload and returns its bytes.
func (s *strictInflater) message(payload []byte) ([]byte, error) {
	if !s.takeover {
		s.out = s.out[:0]
	}
	start := len(s.out)
	s.in = append(append([]byte(nil), payload...), syncTail[:]...)
	s.pos, s.bitbuf, s.bitcnt = 0, 0, 0
	for s.pos < len(s.in) || s.bitcnt >= 8 {
		final, err := s.block()
		if err != nil {
			return nil, err
		}
		if final {
			break
		}
	}
	return s.out[start:], nil
}

func (s *strictInflater) bits(n uint) (int, error) {
	v := s.bitbuf
	for s.bitcnt < n {
		if s.pos >= len(s.in) {
			return 0, fmt.Errorf("%w: unexpected end of input", errStrict)
		}
		v |= uint32(s.in[s.pos]) << s.bitcnt
		s.pos++
		s.bitcnt += 8
	}
	s.bitbuf = v >> n
	s.bitcnt -= n
	return int(v & (1<<n - 1)), nil
}

type strictHuffman struct {
	count  [16]int
	symbol []int
}

func newStrictHuffman(lengths []int) (*strictHuffman, error) {
	h := &strictHuffman{symbol: make([]int, len(lengths))}
	for _, l := range lengths {
		h.count[l]++
	}
	if h.count[0] == len(lengths) {
		return h, nil
	}
	left := 1
	for l := 1; l < 16; l++ {
		left = left<<1 - h.count[l]
		if left < 0 {
			return nil, fmt.Errorf("%w: over-subscribed code", errStrict)
		}
	}
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = sym
			offs[l]++
		}
	}
	return h, nil
}

func (s *strictInflater) decode(h *strictHuffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := s.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		count := h.count[l]
		if code-count < first {
			return h.symbol[index+(code-first)], nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, fmt.Errorf("%w: invalid code", errStrict)
}

var (
	strictLenBase   = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	strictLenExtra  = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	strictDistBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	strictDistExtra = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	strictOrder     = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

func (s *strictInflater) block() (final bool, err error) {
	hdr, err := s.bits(3)
	if err != nil {
		return false, err
	}
	final = hdr&1 == 1
	switch hdr >> 1 {
	case 0:
		s.bitbuf, s.bitcnt = 0, 0
		if s.pos+4 > len(s.in) {
			return false, fmt.Errorf("%w: short stored header", errStrict)
		}
		n := int(s.in[s.pos]) | int(s.in[s.pos+1])<<8
		nn := int(s.in[s.pos+2]) | int(s.in[s.pos+3])<<8
		s.pos += 4
		if n != ^nn&0xffff || s.pos+n > len(s.in) {
			return false, fmt.Errorf("%w: bad stored block", errStrict)
		}
		s.out = append(s.out, s.in[s.pos:s.pos+n]...)
		s.pos += n
		return final, nil
	case 1:
		lengths := make([]int, 288+30)
		for i := range 288 {
			switch {
			case i < 144:
				lengths[i] = 8
			case i < 256:
				lengths[i] = 9
			case i < 280:
				lengths[i] = 7
			default:
				lengths[i] = 8
			}
		}
		for i := 288; i < len(lengths); i++ {
			lengths[i] = 5
		}
		lit, _ := newStrictHuffman(lengths[:288])
		dist, _ := newStrictHuffman(lengths[288:])
		return final, s.codes(lit, dist)
	case 2:
		nlen, err1 := s.bits(5)
		ndist, err2 := s.bits(5)
		ncode, err3 := s.bits(4)
		if err := errors.Join(err1, err2, err3); err != nil {
			return false, err
		}
		nlen, ndist, ncode = nlen+257, ndist+1, ncode+4
		if nlen > 286 || ndist > 30 {
			return false, fmt.Errorf("%w: bad counts", errStrict)
		}
		var cl [19]int
		for i := range ncode {
			v, err := s.bits(3)
			if err != nil {
				return false, err
			}
			cl[strictOrder[i]] = v
		}
		lencode, err := newStrictHuffman(cl[:])
		if err != nil {
			return false, err
		}
		lengths := make([]int, nlen+ndist)
		for i := 0; i < nlen+ndist; {
			sym, err := s.decode(lencode)
			if err != nil {
				return false, err
			}
			if sym < 16 {
				lengths[i] = sym
				i++
				continue
			}
			var rep, val int
			switch sym {
			case 16:
				if i == 0 {
					return false, fmt.Errorf("%w: repeat with no previous length", errStrict)
				}
				val = lengths[i-1]
				r, err := s.bits(2)
				if err != nil {
					return false, err
				}
				rep = 3 + r
			case 17:
				r, err := s.bits(3)
				if err != nil {
					return false, err
				}
				rep = 3 + r
			default:
				r, err := s.bits(7)
				if err != nil {
					return false, err
				}
				rep = 11 + r
			}
			if i+rep > nlen+ndist {
				return false, fmt.Errorf("%w: too many lengths", errStrict)
			}
			for ; rep > 0; rep-- {
				lengths[i] = val
				i++
			}
		}
		lit, err := newStrictHuffman(lengths[:nlen])
		if err != nil {
			return false, err
		}
		dist, err := newStrictHuffman(lengths[nlen:])
		if err != nil {
			return false, err
		}
		return final, s.codes(lit, dist)
	}
	return false, fmt.Errorf("%w: reserved block type", errStrict)
}

func (s *strictInflater) codes(lit, dist *strictHuffman) error {
	for {
		sym, err := s.decode(lit)
		if err != nil {
			return err
		}
		if sym < 256 {
			s.out = append(s.out, byte(sym))
			continue
		}
		if sym == 256 {
			return nil
		}
		sym -= 257
		if sym >= 29 {
			return fmt.Errorf("%w: bad length symbol", errStrict)
		}
		e, err := s.bits(strictLenExtra[sym])
		if err != nil {
			return err
		}
		length := strictLenBase[sym] + e
		dsym, err := s.decode(dist)
		if err != nil {
			return err
		}
		if dsym >= 30 {
			return fmt.Errorf("%w: bad distance symbol", errStrict)
		}
		e, err = s.bits(strictDistExtra[dsym])
		if err != nil {
			return err
		}
		d := strictDistBase[dsym] + e
		if d > s.window {
			return fmt.Errorf("%w: distance %d beyond the %d-byte window", errStrict, d, s.window)
		}
		if d > len(s.out) {
			return fmt.Errorf("%w: distance %d beyond the %d bytes of history", errStrict, d, len(s.out))
		}
		s.maxDist = max(s.maxDist, d)
		for range length {
			s.out = append(s.out, s.out[len(s.out)-d])
		}
	}
}
