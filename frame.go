package websocket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/duplexws/websocket/internal/wsconn"
)

// opcode is a frame's opcode (RFC 6455 §5.2).
type opcode byte

const (
	opContinuation opcode = 0x0
	opText         opcode = 0x1
	opBinary       opcode = 0x2
	opClose        opcode = 0x8
	opPing         opcode = 0x9
	opPong         opcode = 0xA
)

func (op opcode) isControl() bool { return op&0x8 != 0 }

const (
	bitFIN  = 0x80
	bitRSV1 = 0x40
	bitRSV2 = 0x20
	bitRSV3 = 0x10
	bitMask = 0x80

	// maxHeaderSize is the longest frame header: 2 bytes, an 8-byte length and a 4-byte key.
	maxHeaderSize = 14

	// maxControlPayload is the largest payload of a control frame (RFC 6455 §5.5).
	maxControlPayload = 125
)

// frameHeader is the decoded header of one frame.
type frameHeader struct {
	fin    bool
	rsv    byte // RSV1|RSV2|RSV3 bits as they sit in the first byte
	op     opcode
	masked bool
	key    uint32 // masking key, little-endian as mask expects
	length int64
}

// errFrameHeader reports a header that breaks RFC 6455 §5.2 whatever the state of the connection.
var errFrameHeader = errors.New("invalid frame header")

// appendFrameHeader appends the wire form of h to b.
func appendFrameHeader(b []byte, h frameHeader) []byte {
	b0 := byte(h.op) | h.rsv
	if h.fin {
		b0 |= bitFIN
	}
	var b1 byte
	if h.masked {
		b1 = bitMask
	}
	switch {
	case h.length <= 125:
		b = append(b, b0, b1|byte(h.length))
	case h.length <= 0xFFFF:
		b = append(b, b0, b1|126)
		b = binary.BigEndian.AppendUint16(b, uint16(h.length))
	default:
		b = append(b, b0, b1|127)
		b = binary.BigEndian.AppendUint64(b, uint64(h.length))
	}
	if h.masked {
		b = binary.LittleEndian.AppendUint32(b, h.key)
	}
	return b
}

// byteReader is what the frame parser reads from: a buffered reader.
type byteReader interface {
	io.Reader
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
}

// readFrameHeader reads and decodes one frame header with parseFrameHeader.
func readFrameHeader(r byteReader) (frameHeader, error) {
	p, err := r.Peek(2)
	if err != nil {
		return frameHeader{}, err
	}
	if n := frameHeaderSize(p); n > 2 {
		if p, err = r.Peek(n); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return frameHeader{}, err
		}
	}
	h, n, err := parseFrameHeader(p)
	if err != nil {
		return h, err
	}
	if _, err := r.Discard(n); err != nil {
		return h, err
	}
	return h, nil
}

// frameHeaderSize returns the length of the header that starts with p, or 0
// when p holds less than its first two bytes.
func frameHeaderSize(p []byte) int {
	if len(p) < 2 {
		return 0
	}
	n := 2
	switch p[1] & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if p[1]&bitMask != 0 {
		n += 4
	}
	return n
}

// parseFrameHeader decodes the frame header at the start of p and returns
// it with its length in bytes. When p holds only part of the header it
// returns n == 0 and no error, and nothing is lost: the caller parses again
// from the same start once more bytes have come, so a reader driven by
// readiness events can stop at "no more bytes now". It checks what holds for
// every frame: a 64-bit length has its top bit clear (§5.2), the shortest
// length encoding is not required, and control frames are final and at most
// 125 bytes (§5.5). Rules that depend on the connection's state are left to
// the caller.
func parseFrameHeader(p []byte) (h frameHeader, n int, err error) {
	n = frameHeaderSize(p)
	if n == 0 || len(p) < n {
		return h, 0, nil
	}
	b0, b1 := p[0], p[1]
	h.fin = b0&bitFIN != 0
	h.rsv = b0 & (bitRSV1 | bitRSV2 | bitRSV3)
	h.op = opcode(b0 & 0x0F)
	h.masked = b1&bitMask != 0
	i := 2
	switch l := b1 & 0x7F; l {
	case 126:
		h.length = int64(binary.BigEndian.Uint16(p[2:]))
		i = 4
	case 127:
		u := binary.BigEndian.Uint64(p[2:])
		if u>>63 != 0 {
			return h, n, fmt.Errorf("%w: 64-bit payload length has its most significant bit set", errFrameHeader)
		}
		h.length = int64(u)
		i = 10
	default:
		h.length = int64(l)
	}
	if h.masked {
		h.key = binary.LittleEndian.Uint32(p[i:])
	}
	if h.op.isControl() {
		if !h.fin {
			return h, n, fmt.Errorf("%w: fragmented control frame", errFrameHeader) // §5.5
		}
		if h.length > maxControlPayload {
			return h, n, fmt.Errorf("%w: control frame payload of %d bytes exceeds 125", errFrameHeader, h.length) // §5.5
		}
	}
	switch h.op {
	case opContinuation, opText, opBinary, opClose, opPing, opPong:
	default:
		return h, n, fmt.Errorf("%w: reserved opcode %#x", errFrameHeader, byte(h.op)) // §5.2
	}
	return h, n, nil
}

// parseClosePayload decodes the payload of a received close frame (RFC 6455
// §5.5.1, §7.4). It returns the code to fail the connection with when the
// payload is invalid: a one-byte payload or a code not allowed on the wire is
// a protocol error, a reason that is not UTF-8 is invalid payload data.
func parseClosePayload(p []byte) (*CloseError, StatusCode, error) {
	switch {
	case len(p) == 0:
		return &CloseError{Code: StatusNoStatusRcvd}, 0, nil
	case len(p) == 1:
		return nil, StatusProtocolError, errors.New("close frame payload of one byte")
	}
	code := StatusCode(binary.BigEndian.Uint16(p))
	if !wsconn.ValidWireCode(int(code)) {
		return nil, StatusProtocolError, fmt.Errorf("close frame with invalid status code %d", int(code))
	}
	reason := p[2:]
	if !utf8.Valid(reason) {
		return nil, StatusInvalidFramePayloadData, errors.New("close frame reason is not valid UTF-8")
	}
	return &CloseError{Code: code, Reason: string(reason)}, 0, nil
}

// appendClosePayload appends the payload of a close frame with code and reason.
// StatusNoStatusRcvd gives an empty payload.
func appendClosePayload(b []byte, code StatusCode, reason string) []byte {
	if code == StatusNoStatusRcvd {
		return b
	}
	b = binary.BigEndian.AppendUint16(b, uint16(code))
	return append(b, reason...)
}
