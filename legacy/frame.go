package legacy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
)

// The bytes of hixie-76 framing (draft-hixie-thewebsocketprotocol-76 §4.2, §5.3).
const (
	// frameTypeText starts a text frame; the UTF-8 text runs up to frameEnd.
	frameTypeText = 0x00
	// frameEnd ends every sentinel-delimited frame, and as a frame type with
	// a zero length it is the closing frame.
	frameEnd = 0xFF
	// frameTypeLength marks a frame type whose frame carries a base-128
	// length instead of a terminating 0xFF.
	frameTypeLength = 0x80
)

// closingFrame is what each side sends to start or answer the closing handshake.
var closingFrame = []byte{frameEnd, 0x00}

// frameKind is what frameReader.next found.
type frameKind int

const (
	// kindText: the reader stands at the first byte of a text frame's body.
	kindText frameKind = iota + 1
	// kindClose: the peer sent the closing frame.
	kindClose
)

var (
	// errFrameTooBig reports a frame longer than the read limit.
	errFrameTooBig = errors.New("frame exceeds the read limit")
	// errFrameLength reports a length prefix too large to represent.
	errFrameLength = errors.New("frame length overflows 63 bits")
)

// frameReader splits the byte stream from the peer into hixie-76 frames.
// Frames that carry nothing an application can receive (unknown types) are
// read and thrown away, as the draft requires of both ends.
type frameReader struct {
	br *bufio.Reader
}

// next skips frames up to the start of the next text frame's body or up to
// the closing frame, whichever comes first. Skipped frames longer than limit
// (limit < 0: no limit) end with errFrameTooBig.
func (fr *frameReader) next(limit int64) (frameKind, error) {
	for {
		typ, err := fr.br.ReadByte()
		if err != nil {
			return 0, err
		}
		if typ&frameTypeLength == 0 {
			if typ == frameTypeText {
				return kindText, nil
			}
			if err := fr.skipText(limit); err != nil {
				return 0, err
			}
			continue
		}
		n, err := fr.readLength()
		if err != nil {
			return 0, err
		}
		// §4.2: a 0xFF frame of length zero is the closing frame; any other
		// length-prefixed frame is discarded whole.
		if typ == frameEnd && n == 0 {
			return kindClose, nil
		}
		if limit >= 0 && n > limit {
			return 0, errFrameTooBig
		}
		if err := fr.discard(n); err != nil {
			return 0, err
		}
	}
}

// readLength reads a base-128 length: seven bits per byte, most significant
// first, the high bit set on every byte but the last.
func (fr *frameReader) readLength() (int64, error) {
	var n int64
	for {
		b, err := fr.br.ReadByte()
		if err != nil {
			return 0, err
		}
		if n > (math.MaxInt64-int64(b&0x7F))/128 {
			return 0, errFrameLength
		}
		n = n*128 + int64(b&0x7F)
		if b&0x80 == 0 {
			return n, nil
		}
	}
}

// discard throws away the next n bytes.
func (fr *frameReader) discard(n int64) error {
	for n > 0 {
		k := int(min(n, 1<<20))
		if _, err := fr.br.Discard(k); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		n -= int64(k)
	}
	return nil
}

// skipText discards the body of a sentinel-delimited frame and its 0xFF.
func (fr *frameReader) skipText(limit int64) error {
	var n int64
	for {
		buf, err := fr.peekBuffered()
		if err != nil {
			return err
		}
		end := bytes.IndexByte(buf, frameEnd)
		if end < 0 {
			end = len(buf)
		}
		n += int64(end)
		if limit >= 0 && n > limit {
			return errFrameTooBig
		}
		if end < len(buf) {
			_, _ = fr.br.Discard(end + 1)
			return nil
		}
		_, _ = fr.br.Discard(end)
	}
}

// readText copies the next bytes of a text frame's body into p. done is true
// once the terminating 0xFF has been consumed; the 0xFF is not copied.
func (fr *frameReader) readText(p []byte) (n int, done bool, err error) {
	if len(p) == 0 {
		return 0, false, nil
	}
	buf, err := fr.peekBuffered()
	if err != nil {
		return 0, false, err
	}
	if len(buf) > len(p)+1 {
		buf = buf[:len(p)+1]
	}
	if end := bytes.IndexByte(buf, frameEnd); end >= 0 {
		n = copy(p, buf[:end])
		_, _ = fr.br.Discard(end + 1)
		return n, true, nil
	}
	n = copy(p, buf)
	_, _ = fr.br.Discard(n)
	return n, false, nil
}

// bufferedTextLen returns the length of the rest of the current text
// frame's body if its end is already in the read buffer, or -1.
func (fr *frameReader) bufferedTextLen() int {
	buf, _ := fr.br.Peek(fr.br.Buffered())
	return bytes.IndexByte(buf, frameEnd)
}

// peekBuffered returns the bytes already buffered, reading more when there
// are none. io.EOF in the middle of a frame is io.ErrUnexpectedEOF.
func (fr *frameReader) peekBuffered() ([]byte, error) {
	if fr.br.Buffered() == 0 {
		if _, err := fr.br.Peek(1); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	buf, _ := fr.br.Peek(fr.br.Buffered())
	return buf, nil
}

// appendTextFrame appends p framed as a text frame.
func appendTextFrame(dst, p []byte) []byte {
	dst = append(dst, frameTypeText)
	dst = append(dst, p...)
	return append(dst, frameEnd)
}
