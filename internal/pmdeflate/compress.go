package pmdeflate

import (
	"errors"
	"io"

	"github.com/klauspost/compress/flate"
)

// syncTail ends every sync flush; RFC 7692 §7.2.1 has the sender remove it.
var syncTail = [4]byte{0x00, 0x00, 0xff, 0xff}

var errNoTail = errors.New("permessage-deflate internal error: compressed message does not end in 00 00 ff ff")

// Writer compresses one message as it is written. The bytes it writes to its
// destination are the message payload, ready to be framed (with RSV1 on the
// first frame). A Writer comes from State.Writer and must be closed.
type Writer struct {
	st    *State
	fw    *flate.Writer
	level int
	bits  int
	tail  tailWriter
	sink  sliceWriter
	dict  []byte
	err   error
}

// Writer starts compressing a message into dst. Under context takeover the
// message may refer back to the earlier messages within the window.
func (st *State) Writer(dst io.Writer) *Writer {
	w := messageWriters.Get().(*Writer)
	w.start(st, dst, st.level, st.out.bits)
	return w
}

func (w *Writer) start(st *State, dst io.Writer, level, bits int) {
	w.st, w.level, w.bits, w.err = st, level, bits, nil
	w.tail = tailWriter{dst: dst}
}

// minPrime is the least of the window a compressor is primed with under
// context takeover (see primeSize).
const minPrime = 3 << 10

// primeSize is how many of the window's last bytes prime the compressor for
// a message whose first write is n bytes: three times n, at least minPrime,
// at most the whole window. A fast compressor primes by compressing the
// dictionary, so the prime costs the message its own compression again for
// every n bytes. On streams of 1 KiB JSON events 3 KiB compress as well as
// the 4 KiB window others prime with, and better than the whole 32 KiB one
// (whose far matches displace near ones in the compressor's tables), for a
// quarter less work: the nearest few kilobytes hold nearly every match.
func primeSize(n, window int) int {
	return min(window, max(minPrime, 3*n))
}

// open borrows the compressor for a message whose first write is n bytes,
// primed with the part of the window primeSize gives under context takeover.
// An empty message refers to nothing, so it is not primed.
func (w *Writer) open(n int) {
	w.dict = w.dict[:0]
	if w.st != nil && w.st.out.takeover && n > 0 {
		w.dict = w.st.out.hist.appendTail(w.dict, primeSize(n, 1<<w.bits))
	}
	w.fw = getFlateWriter(&w.tail, w.level, w.bits, w.dict)
}

// Write compresses p. Output reaches the destination in blocks; the last
// four bytes written so far are held back until Close.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.fw == nil {
		if len(p) == 0 {
			return 0, nil // the compressor is borrowed at the first byte
		}
		w.open(len(p))
	}
	n, err := w.fw.Write(p)
	if w.st != nil && w.st.out.takeover {
		w.st.out.hist.write(p[:n])
	}
	if err != nil {
		w.err = err
	}
	return n, err
}

// Close ends the message: it flushes the compressor with a sync flush, drops
// the 00 00 ff ff that flush ends with and returns the compressor to its
// pool. The Writer must not be used afterwards.
func (w *Writer) Close() error {
	if w.fw == nil {
		w.open(0)
	}
	err := w.err
	if err == nil {
		err = w.fw.Flush()
	}
	if err == nil && (w.tail.n != len(syncTail) || w.tail.buf != syncTail) {
		err = errNoTail
	}
	putFlateWriter(w.fw, w.level, w.bits)
	w.fw, w.st, w.tail, w.sink.b = nil, nil, tailWriter{}, nil
	messageWriters.Put(w)
	return err
}

// AppendCompressed appends the compressed payload of the whole message p to
// dst, as Writer followed by Close would write it.
func (st *State) AppendCompressed(dst, p []byte) []byte {
	return appendCompressed(st, dst, p, st.level, st.out.bits)
}

// Compress appends to dst the payload of message p compressed on its own,
// without reference to earlier messages, for the window and level of v. The
// result can be sent on every connection whose State.Variant is v (calling
// State.Sent there), so a message sent to many is compressed once.
func Compress(dst, p []byte, v Variant) []byte {
	level := v.Level
	if level < 1 || level > 9 {
		level = 1
	}
	bits := v.WindowBits
	if !validBits(bits) {
		bits = MaxWindowBits
	}
	return appendCompressed(nil, dst, p, level, bits)
}

func appendCompressed(st *State, dst, p []byte, level, bits int) []byte {
	w := messageWriters.Get().(*Writer)
	w.sink.b = dst
	w.start(st, &w.sink, level, bits)
	w.open(len(p))
	// Writes to a slice cannot fail, and the flush always ends in syncTail.
	_, _ = w.Write(p)
	_ = w.fw.Flush()
	out := w.sink.b
	w.sink.b = nil
	putFlateWriter(w.fw, w.level, w.bits)
	w.fw, w.st, w.tail = nil, nil, tailWriter{}
	messageWriters.Put(w)
	return out
}

// tailWriter passes bytes on to dst but always keeps the last four back.
type tailWriter struct {
	dst io.Writer
	buf [4]byte
	n   int
}

func (t *tailWriter) Write(p []byte) (int, error) {
	total := len(p)
	if t.n+len(p) <= len(t.buf) {
		t.n += copy(t.buf[t.n:], p)
		return total, nil
	}
	// Emit what can no longer be among the last four bytes.
	keep := len(t.buf)
	if len(p) >= keep {
		if t.n > 0 {
			if _, err := t.dst.Write(t.buf[:t.n]); err != nil {
				return 0, err
			}
		}
		if _, err := t.dst.Write(p[:len(p)-keep]); err != nil {
			return 0, err
		}
		t.n = copy(t.buf[:], p[len(p)-keep:])
		return total, nil
	}
	// len(p) < 4 and t.n+len(p) > 4: shift out the oldest held bytes.
	out := t.n + len(p) - keep
	if _, err := t.dst.Write(t.buf[:out]); err != nil {
		return 0, err
	}
	copy(t.buf[:], t.buf[out:t.n])
	copy(t.buf[t.n-out:], p)
	t.n = keep
	return total, nil
}

// sliceWriter appends to a byte slice.
type sliceWriter struct{ b []byte }

func (s *sliceWriter) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}
