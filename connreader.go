package websocket

import (
	"errors"
	"io"
	"net"

	"github.com/duplexws/websocket/internal/netpoll"
	"github.com/duplexws/websocket/internal/utf8stream"
	"github.com/duplexws/websocket/internal/wsconn"
)

// connReader is a connection's read buffer. It borrows its buffer from a
// pool only while it holds unread bytes, so a connection waiting for its
// next message holds none: on a TCP connection it waits for data through
// the runtime's poller with the buffer returned, and borrows it again only
// when bytes are there to read. Where the connection has no file descriptor
// (TLS, in-memory pipes) it reads through net.Conn and keeps the buffer only
// while a read is blocked.
//
// A connReader is made as a value and moved into its Conn before its first
// read: until then it holds no pointer to itself (sys.rfn is bound by the
// first blocking read).
type connReader struct {
	nc   net.Conn // the connection's transport, which the Conn reads, writes and closes
	buf  *[]byte  // nil while empty
	r, w int      // unread bytes are (*buf)[r:w]
	// sys reads and writes the descriptor through the runtime's poller:
	// nil where nc has no descriptor, and on an engine's connection, whose
	// transport (internal/engine's) reads and writes its descriptor itself.
	sys  *netpoll.RawIO
	size int32 // of the buffer borrowed; an int32 keeps the Conn in its size class

	// Event mode (engine.go): nonblock makes the frame parser stop, with
	// errWouldBlock, at a frame boundary where the next frame has not fully
	// arrived; drained says the last read emptied the socket. hangup says
	// the peer closed or reset its end: the socket is then read until it
	// returns its end or error, since no event will come for them again.
	nonblock bool
	drained  bool
	hangup   bool

	// begun counts the messages Read and Reader began, modulo 256, for
	// Conn.yieldEvery; it fills what would be padding.
	begun uint8
}

// maxReadBufferSize bounds the read buffer's size.
const maxReadBufferSize = 1 << 30

func newConnReader(nc net.Conn, size int) connReader {
	if size <= 0 {
		size = defaultBufferSize
	}
	size = min(size, maxReadBufferSize)
	return connReader{nc: nc, size: int32(size), sys: netpoll.NewRawIO(nc, size)}
}

// newConnReaderFrom is newConnReader with after, the bytes the handshake
// read past its end, copied in to be read first.
func newConnReaderFrom(nc net.Conn, after []byte, size int) connReader {
	b := newConnReader(nc, size)
	if n := len(after); n > 0 {
		b.buf = wsconn.GetBuffer(max(n, int(b.size)))
		*b.buf = (*b.buf)[:cap(*b.buf)]
		b.w = copy(*b.buf, after)
	}
	return b
}

// buffered is the number of unread bytes.
func (b *connReader) buffered() int { return b.w - b.r }

// release returns the buffer once everything in it was read.
func (b *connReader) release() {
	if b.buf != nil && b.r == b.w {
		wsconn.PutBuffer(b.buf)
		b.buf = nil
		b.r, b.w = 0, 0
	}
}

// makeRoom compacts the buffer when its unread bytes reach its end, and
// moves them into a full-size buffer when shrink left them in a small one.
func (b *connReader) makeRoom() {
	if b.buf == nil {
		return
	}
	if cap(*b.buf) < int(b.size) {
		nb := wsconn.GetBuffer(int(b.size))
		*nb = (*nb)[:cap(*nb)]
		b.w = copy(*nb, (*b.buf)[b.r:b.w])
		b.r = 0
		b.buf = nb
		return
	}
	if b.r > 0 && b.w == cap(*b.buf) {
		n := copy(*b.buf, (*b.buf)[b.r:b.w])
		b.r, b.w = 0, n
	}
}

// shrink gives the pooled buffer back when the connection goes idle with a
// partial frame buffered, keeping only that frame's bytes.
func (b *connReader) shrink() {
	n := b.buffered()
	if n == 0 || cap(*b.buf) == n {
		b.release()
		return
	}
	small := make([]byte, n)
	copy(small, (*b.buf)[b.r:b.w])
	wsconn.PutBuffer(b.buf)
	b.buf = &small
	b.r, b.w = 0, n
}

// drop gives the buffer back, unread bytes and all, once reading has failed
// for good: they are of a frame that will never be complete.
func (b *connReader) drop() {
	if b.buf != nil {
		wsconn.PutBuffer(b.buf)
		b.buf = nil
		b.r, b.w = 0, 0
	}
}

// fill reads at least one more byte into the buffer.
func (b *connReader) fill() error {
	b.drained = false // a blocking read: what the socket holds next is unknown
	b.makeRoom()
	if b.buf == nil {
		// The wait for bytes holds no buffer: through the runtime's poller
		// (sys), or an engine's transport.
		var err error
		if b.sys != nil {
			b.buf, b.w, err = b.sys.ReadBorrowed()
			b.r = 0
			return err
		}
		if br, ok := b.nc.(borrowedReader); ok {
			b.buf, b.w, err = br.ReadBorrowed(int(b.size))
			b.r = 0
			return err
		}
	}
	if b.buf == nil {
		b.buf = wsconn.GetBuffer(int(b.size))
		*b.buf = (*b.buf)[:cap(*b.buf)]
	}
	n, err := b.nc.Read((*b.buf)[b.w:])
	b.w += n
	if n > 0 {
		return nil
	}
	b.release()
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// Peek returns the next n bytes without consuming them; n is at most a
// frame header's length.
func (b *connReader) Peek(n int) ([]byte, error) {
	for b.buffered() < n {
		if err := b.fill(); err != nil {
			if b.buffered() > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return (*b.buf)[b.r : b.r+n], nil
}

// Discard skips n bytes.
func (b *connReader) Discard(n int) (int, error) {
	done := 0
	for done < n {
		if b.buffered() == 0 {
			if err := b.fill(); err != nil {
				return done, err
			}
		}
		k := min(n-done, b.buffered())
		b.r += k
		done += k
		b.release()
	}
	return done, nil
}

// Read reads up to len(p) bytes. Reads at least as large as the buffer go
// straight into p when nothing is buffered.
func (b *connReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.buffered() == 0 {
		if len(p) >= int(b.size) {
			b.drained = false
			if b.sys != nil {
				return b.sys.Read(p)
			}
			return b.nc.Read(p)
		}
		if err := b.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, (*b.buf)[b.r:b.w])
	b.r += n
	b.release()
	return n, nil
}

// errWouldBlock stops the frame parser of an event-mode connection at a frame
// boundary where the next frame has not fully arrived.
var errWouldBlock = errors.New("websocket: no complete frame buffered")

// bufferFrame makes sure, without waiting, that the next frame is buffered:
// its header and whole payload, or a full buffer of it when the frame is
// larger than the buffer (the rest is then read as it comes, as in
// goroutine mode). limit is the read limit, negative for none. It returns
// errWouldBlock when the socket has no more to give.
func (b *connReader) bufferFrame(limit int64) error {
	for !b.frameBuffered(limit) {
		if b.drained {
			return errWouldBlock
		}
		if err := b.readNow(); err != nil {
			return err
		}
	}
	return nil
}

// frameBuffered reports whether the next frame is buffered as bufferFrame
// requires.
func (b *connReader) frameBuffered(limit int64) bool {
	n := b.buffered()
	if n < 2 {
		return false
	}
	p := (*b.buf)[b.r:b.w]
	h, hdr, err := parseFrameHeader(p)
	if hdr == 0 {
		return false // the header has not arrived whole
	}
	// A frame whose header the parser refuses is failed now, and so is one
	// longer than the read limit (limit, unless negative), which the reader
	// refuses. A frame that cannot fit the buffer is read as it comes once
	// a buffer of it has arrived: until then the connection waits holding
	// only the bytes that came, and no goroutine.
	if err != nil || limit >= 0 && h.length > limit || int64(n-hdr) >= h.length ||
		h.length > int64(int(b.size)-hdr) && n >= int(b.size) {
		return true
	}
	// RFC 6455 §8.1: invalid text fails the connection as soon as it is
	// seen, not when its frame is complete.
	if h.op == opText && h.rsv&bitRSV1 == 0 && n > hdr {
		return !validTextPrefix(p[hdr:n], h.key)
	}
	return false
}

// borrowedReader is a transport that borrows a read buffer for each read
// system call only, so that a read waiting for bytes holds none: an
// engine's connection in event mode (internal/engine's transport).
type borrowedReader interface {
	ReadBorrowed(size int) (*[]byte, int, error)
}

// nowReader is a transport that reads what its socket holds without ever
// waiting: an engine's connection in event mode (internal/engine's
// transport). It returns netpoll.ErrEmpty when the socket is empty, and
// closes nothing another goroutine may be using.
type nowReader interface {
	ReadNow(p []byte) (int, error)
}

// readNow reads what the socket holds into the buffer without waiting for
// more: it returns errWouldBlock when the socket is empty, and sets drained
// when the read emptied it. A transport that cannot read without waiting
// is read as fill reads it.
func (b *connReader) readNow() error {
	nr, ok := b.nc.(nowReader)
	if !ok {
		return b.fill()
	}
	b.makeRoom()
	if b.buf == nil {
		b.buf = wsconn.GetBuffer(int(b.size))
		*b.buf = (*b.buf)[:cap(*b.buf)]
	}
	space := len(*b.buf) - b.w
	n, err := nr.ReadNow((*b.buf)[b.w:])
	switch {
	case err == netpoll.ErrEmpty:
		b.drained = true
		b.release()
		return errWouldBlock
	case err != nil:
		b.release()
		return err
	case n == 0:
		b.release()
		return io.EOF
	}
	b.w += n
	// A TCP read returns all the socket holds up to the space given; a
	// short read emptied it, and what arrives later brings a new event.
	// The peer's end (FIN or reset) may have come with the data the read
	// returned, in the same event: once the poller saw it, read on until
	// the socket returns it.
	b.drained = n < space && !b.hangup
	return nil
}

// validTextPrefix reports whether the start of a text frame's payload,
// masked with key, can begin valid UTF-8. It leaves payload masked.
func validTextPrefix(payload []byte, key uint32) bool {
	var v utf8stream.Validator
	var chunk [256]byte
	for len(payload) > 0 {
		k := copy(chunk[:], payload)
		key = mask(key, chunk[:k])
		if !v.Write(chunk[:k]) {
			return false
		}
		payload = payload[k:]
	}
	return true
}
