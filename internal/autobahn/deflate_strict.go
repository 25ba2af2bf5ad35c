package autobahn

import (
	"errors"
	"fmt"
)

// The strict inflater decodes a raw DEFLATE stream (RFC 1951) on its own,
// bit by bit, to check what the standard library's inflater does not: that
// every back-reference stays within the LZ77 window the sender negotiated.
// Speed is not its aim; it decodes Huffman codes one bit at a time.

// errInflateTruncated is returned when the stream ends inside a block.
var errInflateTruncated = errors.New("DEFLATE stream ends inside a block")

// Length and distance tables of RFC 1951 §3.2.5.
var (
	inflateLengthBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
		35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	inflateLengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
		3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	inflateDistBase = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
		257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	inflateDistExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
		7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// inflateCodeLengthOrder is the order of the code length code lengths (§3.2.7).
	inflateCodeLengthOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// inflateBitReader reads a DEFLATE stream least significant bit first (§3.1.1).
type inflateBitReader struct {
	src   []byte
	pos   int  // next byte
	bit   uint // next bit within src[pos]
	nbits int  // bits consumed, for error messages
}

func (r *inflateBitReader) bits(n uint) (uint32, error) {
	var v uint32
	for i := uint(0); i < n; i++ {
		if r.pos >= len(r.src) {
			return 0, errInflateTruncated
		}
		v |= uint32(r.src[r.pos]>>r.bit&1) << i
		r.bit++
		r.nbits++
		if r.bit == 8 {
			r.bit = 0
			r.pos++
		}
	}
	return v, nil
}

// align skips to the next byte boundary (§3.2.4).
func (r *inflateBitReader) align() {
	if r.bit != 0 {
		r.nbits += int(8 - r.bit)
		r.bit = 0
		r.pos++
	}
}

// inflateCode is a canonical Huffman code (§3.2.2): count[l] codes of length l,
// and the symbols in code order.
type inflateCode struct {
	count   [16]uint16
	symbols []uint16
}

// newInflateCode builds the code of the given code lengths. As zlib, it accepts
// only complete codes, a code of no symbols (a block without distances) and
// a code of one symbol of length 1.
func newInflateCode(lengths []uint8) (*inflateCode, error) {
	h := &inflateCode{}
	for _, l := range lengths {
		h.count[l]++
	}
	left := 1
	for l := 1; l < 16; l++ {
		left <<= 1
		left -= int(h.count[l])
		if left < 0 {
			return nil, errors.New("over-subscribed Huffman code")
		}
	}
	used := len(lengths) - int(h.count[0])
	if left > 0 && used > 1 || used == 1 && h.count[1] != 1 {
		return nil, errors.New("incomplete Huffman code")
	}
	var offs [16]uint16
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	h.symbols = make([]uint16, int(offs[15])+int(h.count[15]))
	for sym, l := range lengths {
		if l != 0 {
			h.symbols[offs[l]] = uint16(sym)
			offs[l]++
		}
	}
	return h, nil
}

// decode reads one symbol: canonical codes of one length are consecutive
// numbers, so a code of length l is found by its distance from the first.
func (h *inflateCode) decode(r *inflateBitReader) (uint16, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		code |= int(b)
		n := int(h.count[l])
		if code-first < n {
			return h.symbols[index+code-first], nil
		}
		index += n
		first = (first + n) << 1
		code <<= 1
	}
	return 0, errors.New("unassigned Huffman code")
}

// inflateFixedCodes returns the literal/length and distance codes of §3.2.6.
func inflateFixedCodes() (*inflateCode, *inflateCode) {
	var lit [288]uint8
	for i := range lit {
		switch {
		case i < 144:
			lit[i] = 8
		case i < 256:
			lit[i] = 9
		case i < 280:
			lit[i] = 7
		default:
			lit[i] = 8
		}
	}
	var dist [32]uint8 // 30 and 31 complete the code and are never valid
	for i := range dist {
		dist[i] = 5
	}
	l, _ := newInflateCode(lit[:])
	d, _ := newInflateCode(dist[:])
	return l, d
}

// strictInflate decodes the raw DEFLATE stream src that continues from the
// history dict, and returns the data it produces. It fails when a
// back-reference reaches farther than window bytes or before the start of
// dict, when the output exceeds limit bytes, and when the stream is
// malformed or ends other than at the end of a block. Input after a block
// with BFINAL set is ignored, as zlib ignores it.
func strictInflate(src, dict []byte, window, limit int) ([]byte, error) {
	r := &inflateBitReader{src: src}
	buf := append(make([]byte, 0, len(dict)+len(src)*4), dict...)
	out := func() []byte { return buf[len(dict):] }
	for {
		if r.pos == len(src) {
			return out(), nil
		}
		final, err := r.bits(1)
		if err != nil {
			return nil, err
		}
		typ, err := r.bits(2)
		if err != nil {
			return nil, err
		}
		switch typ {
		case 0:
			buf, err = inflateStored(r, buf)
		case 1:
			lit, dist := inflateFixedCodes()
			buf, err = inflateCoded(r, buf, len(dict), lit, dist, window, limit)
		case 2:
			var lit, dist *inflateCode
			lit, dist, err = inflateDynamicCodes(r)
			if err == nil {
				buf, err = inflateCoded(r, buf, len(dict), lit, dist, window, limit)
			}
		default:
			err = errors.New("reserved block type 3")
		}
		if err != nil {
			return nil, fmt.Errorf("at bit %d: %w", r.nbits, err)
		}
		if len(buf)-len(dict) > limit {
			return nil, fmt.Errorf("message inflates beyond %d bytes", limit)
		}
		if final == 1 {
			return out(), nil
		}
	}
}

func inflateStored(r *inflateBitReader, buf []byte) ([]byte, error) {
	r.align()
	if r.pos+4 > len(r.src) {
		return nil, errInflateTruncated
	}
	n := int(r.src[r.pos]) | int(r.src[r.pos+1])<<8
	nn := int(r.src[r.pos+2]) | int(r.src[r.pos+3])<<8
	if n != ^nn&0xffff {
		return nil, fmt.Errorf("stored block LEN %#04x and NLEN %#04x do not match", n, nn)
	}
	r.pos += 4
	r.nbits += 32
	if r.pos+n > len(r.src) {
		return nil, errInflateTruncated
	}
	buf = append(buf, r.src[r.pos:r.pos+n]...)
	r.pos += n
	r.nbits += 8 * n
	return buf, nil
}

// inflateDynamicCodes reads the code definitions of a dynamic block (§3.2.7).
func inflateDynamicCodes(r *inflateBitReader) (*inflateCode, *inflateCode, error) {
	hlit, err := r.bits(5)
	if err != nil {
		return nil, nil, err
	}
	hdist, err := r.bits(5)
	if err != nil {
		return nil, nil, err
	}
	hclen, err := r.bits(4)
	if err != nil {
		return nil, nil, err
	}
	nlit, ndist := int(hlit)+257, int(hdist)+1
	if nlit > 286 || ndist > 30 {
		return nil, nil, fmt.Errorf("%d literal/length and %d distance codes are too many", nlit, ndist)
	}
	var clen [19]uint8
	for i := 0; i < int(hclen)+4; i++ {
		v, err := r.bits(3)
		if err != nil {
			return nil, nil, err
		}
		clen[inflateCodeLengthOrder[i]] = uint8(v)
	}
	cl, err := newInflateCode(clen[:])
	if err != nil {
		return nil, nil, fmt.Errorf("code length code: %w", err)
	}
	lengths := make([]uint8, 0, nlit+ndist)
	for len(lengths) < nlit+ndist {
		sym, err := cl.decode(r)
		if err != nil {
			return nil, nil, err
		}
		if sym < 16 {
			lengths = append(lengths, uint8(sym))
			continue
		}
		var rep uint8
		var extra uint
		var base int
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return nil, nil, errors.New("code length 16 with no previous length")
			}
			rep, extra, base = lengths[len(lengths)-1], 2, 3
		case 17:
			extra, base = 3, 3
		default:
			extra, base = 7, 11
		}
		v, err := r.bits(extra)
		if err != nil {
			return nil, nil, err
		}
		n := base + int(v)
		if len(lengths)+n > nlit+ndist {
			return nil, nil, errors.New("code lengths repeat past the end")
		}
		for range n {
			lengths = append(lengths, rep)
		}
	}
	if lengths[256] == 0 {
		return nil, nil, errors.New("no code for end of block")
	}
	lit, err := newInflateCode(lengths[:nlit])
	if err != nil {
		return nil, nil, fmt.Errorf("literal/length code: %w", err)
	}
	dist, err := newInflateCode(lengths[nlit:])
	if err != nil {
		return nil, nil, fmt.Errorf("distance code: %w", err)
	}
	return lit, dist, nil
}

// inflateCoded decodes a block of Huffman-coded literals and back-references
// (§3.2.5) up to its end-of-block symbol. The message starts at buf[start].
func inflateCoded(r *inflateBitReader, buf []byte, start int, lit, dist *inflateCode, window, limit int) ([]byte, error) {
	for {
		sym, err := lit.decode(r)
		if err != nil {
			return nil, err
		}
		switch {
		case sym < 256:
			buf = append(buf, byte(sym))
			continue
		case sym == 256:
			return buf, nil
		case sym > 285:
			return nil, fmt.Errorf("invalid length symbol %d", sym)
		}
		i := sym - 257
		e, err := r.bits(uint(inflateLengthExtra[i]))
		if err != nil {
			return nil, err
		}
		n := int(inflateLengthBase[i]) + int(e)
		ds, err := dist.decode(r)
		if err != nil {
			return nil, err
		}
		if ds > 29 {
			return nil, fmt.Errorf("invalid distance symbol %d", ds)
		}
		e, err = r.bits(uint(inflateDistExtra[ds]))
		if err != nil {
			return nil, err
		}
		d := int(inflateDistBase[ds]) + int(e)
		if d > window {
			return nil, fmt.Errorf("back-reference of distance %d beyond the negotiated window of %d bytes", d, window)
		}
		if d > len(buf) {
			return nil, fmt.Errorf("back-reference of distance %d before the start of the available history (%d bytes of earlier messages, %d of this one)", d, start, len(buf)-start)
		}
		for k := 0; k < n; k++ {
			buf = append(buf, buf[len(buf)-d])
		}
		if len(buf)-start > limit {
			return nil, fmt.Errorf("message inflates beyond %d bytes", limit)
		}
	}
}
