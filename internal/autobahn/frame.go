package autobahn

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcodes of RFC 6455 §5.2, and the reserved ones the suite sends on purpose.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// RSV bits as they sit in Frame.RSV: RSV1 is the highest of the three.
const (
	rsv1 = 4
	rsv2 = 2
	rsv3 = 1
)

// Frame is one WebSocket frame as the suite writes or reads it, with every
// header field free, including those a conforming endpoint never sets.
type Frame struct {
	Fin     bool
	RSV     byte // three bits: 4 is RSV1, 2 is RSV2, 1 is RSV3
	Opcode  byte // four bits
	Masked  bool // set on frames read; on frames written the session decides
	Payload []byte
}

// String describes the frame for reasons and logs, without its payload.
func (f Frame) String() string {
	return fmt.Sprintf("frame{fin=%t rsv=%d opcode=%d masked=%t len=%d}", f.Fin, f.RSV, f.Opcode, f.Masked, len(f.Payload))
}

// isControl reports whether op is a control opcode (RFC 6455 §5.5).
func isControl(op byte) bool { return op&0x8 != 0 }

// errFrameTooLong is returned for a frame whose length the reader refuses.
var errFrameTooLong = errors.New("autobahn: frame longer than the reader's limit")

// appendFrame appends the wire form of f to b. With mask set, the payload
// is masked with key (RFC 6455 §5.3); f.Payload itself is not changed.
func appendFrame(b []byte, f Frame, mask bool, key [4]byte) []byte {
	b0 := f.Opcode & 0xF
	b0 |= (f.RSV & 7) << 4
	if f.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if mask {
		b1 = 0x80
	}
	n := len(f.Payload)
	switch {
	case n <= 125:
		b = append(b, b0, b1|byte(n))
	case n <= 0xFFFF:
		b = append(b, b0, b1|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, b0, b1|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !mask {
		return append(b, f.Payload...)
	}
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, f.Payload...)
	maskBytes(b[start:], key, 0)
	return b
}

// maskBytes XORs p with key, starting at offset pos of the key, and returns
// the key offset after p.
func maskBytes(p []byte, key [4]byte, pos int) int {
	for i := range p {
		p[i] ^= key[(pos+i)&3]
	}
	return (pos + len(p)) & 3
}

// readFrame reads one frame from r and unmasks its payload. Frames longer
// than limit bytes are refused with errFrameTooLong; the stream is then
// unusable.
func readFrame(r *bufio.Reader, limit int64) (Frame, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Frame{}, err
	}
	f := Frame{
		Fin:    h[0]&0x80 != 0,
		RSV:    (h[0] >> 4) & 7,
		Opcode: h[0] & 0xF,
		Masked: h[1]&0x80 != 0,
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return Frame{}, unexpected(err)
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return Frame{}, unexpected(err)
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > uint64(limit) {
		return Frame{}, fmt.Errorf("%w: %d bytes", errFrameTooLong, n)
	}
	var key [4]byte
	if f.Masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return Frame{}, unexpected(err)
		}
	}
	f.Payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return Frame{}, unexpected(err)
	}
	if f.Masked {
		maskBytes(f.Payload, key, 0)
	}
	return f, nil
}

// unexpected turns an EOF inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// closePayload builds the payload of a close frame: the code in two bytes
// and the reason after it. A negative code makes an empty payload.
func closePayload(code int, reason []byte) []byte {
	if code < 0 {
		return nil
	}
	p := binary.BigEndian.AppendUint16(nil, uint16(code))
	return append(p, reason...)
}
