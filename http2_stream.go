package websocket

import (
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// streamConn presents one HTTP/2 stream carrying a WebSocket (RFC 8441) as
// a net.Conn, so that a Conn runs on it as on TCP: reads come from the
// stream's incoming DATA frames, writes go out as DATA frames, and read and
// write deadlines work as net.Conn's do, which is what ping, keep-alive,
// context cancellation and the close timeouts rest on.
//
// net/http's streams have no such deadlines (its own reset the stream when
// they pass, even with no read or write waiting), so streamConn keeps its
// own: a deadline that passes while no read (or write) is in progress only
// makes the next one fail, as on TCP; one that passes while a read or write
// is blocked interrupts it the only way HTTP/2 allows, by breaking that
// direction of the stream, after which the Conn closes it anyway.
//
// Closing is RFC 8441 §6's mapping of TCP: an orderly close ends the
// stream with END_STREAM, an abort resets it.
type streamConn struct {
	r io.ReadCloser // the stream's incoming data
	w io.Writer     // the stream's outgoing data, flushed by each Write

	// abortRead and abortWrite break a blocked read or write; closeFn
	// ends the stream. Each is called once at most.
	abortRead  func()
	abortWrite func()
	closeFn    func() error

	local, remote net.Addr

	rd, wd streamDeadline

	mu     sync.Mutex
	closed bool
}

func newStreamConn(s *streamConn) *streamConn {
	s.rd.abort = s.abortRead
	s.wd.abort = s.abortWrite
	return s
}

// errStreamClosed is what reads and writes return after Close.
var errStreamClosed = fmt.Errorf("HTTP/2 stream: %w", net.ErrClosed)

func (s *streamConn) Read(p []byte) (int, error) {
	if err := s.rd.begin(); err != nil {
		return 0, err
	}
	n, err := s.r.Read(p)
	return n, s.rd.end(err)
}

func (s *streamConn) Write(p []byte) (int, error) {
	if err := s.wd.begin(); err != nil {
		return 0, err
	}
	n, err := s.w.Write(p)
	return n, s.wd.end(err)
}

// Close ends the stream. Blocked reads and writes return: a write waiting
// for flow control resets the stream, since nothing else ends the wait.
func (s *streamConn) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	abortRead, abortWrite := s.rd.stop(), s.wd.stop()
	abortRead()
	abortWrite()
	return s.closeFn()
}

func (s *streamConn) LocalAddr() net.Addr  { return s.local }
func (s *streamConn) RemoteAddr() net.Addr { return s.remote }

func (s *streamConn) SetDeadline(t time.Time) error {
	s.rd.set(t)
	s.wd.set(t)
	return nil
}

func (s *streamConn) SetReadDeadline(t time.Time) error  { s.rd.set(t); return nil }
func (s *streamConn) SetWriteDeadline(t time.Time) error { s.wd.set(t); return nil }

// streamDeadline is the deadline of one direction of a streamConn.
type streamDeadline struct {
	abort func() // breaks the direction while an operation is blocked

	mu      sync.Mutex
	timer   *time.Timer
	gen     uint64 // counts set calls, so that a stale timer does nothing
	expired bool   // the deadline has passed
	busy    bool   // a read or write is in progress
	broken  bool   // abort was called: the direction is unusable
	closed  bool   // the stream was closed
}

// errDeadline is returned once the deadline has passed; it matches
// os.ErrDeadlineExceeded, as a net.Conn's timeout does.
var errDeadline = fmt.Errorf("HTTP/2 stream: %w", os.ErrDeadlineExceeded)

// set makes t the deadline; the zero time removes it.
func (d *streamDeadline) set(t time.Time) {
	d.mu.Lock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.expired = false
	if t.IsZero() {
		d.mu.Unlock()
		return
	}
	wait := time.Until(t)
	if wait > 0 {
		gen := d.gen
		d.timer = time.AfterFunc(wait, func() { d.expire(gen) })
		d.mu.Unlock()
		return
	}
	abort := d.expireLocked()
	d.mu.Unlock()
	abort()
}

// expire runs when the timer of the set call numbered gen fires.
func (d *streamDeadline) expire(gen uint64) {
	d.mu.Lock()
	if gen != d.gen {
		d.mu.Unlock()
		return
	}
	abort := d.expireLocked()
	d.mu.Unlock()
	abort()
}

// expireLocked marks the deadline passed and returns what to call, out of
// the lock, to interrupt a blocked operation.
func (d *streamDeadline) expireLocked() func() {
	d.expired = true
	if d.busy && !d.broken {
		d.broken = true
		return d.abort
	}
	return func() {}
}

// begin starts a read or write, refusing it once the deadline has passed.
func (d *streamDeadline) begin() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return errStreamClosed
	case d.expired || d.broken:
		return errDeadline
	}
	d.busy = true
	return nil
}

// end finishes a read or write and returns its error, or the deadline's
// when the deadline interrupted it.
func (d *streamDeadline) end(err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.busy = false
	switch {
	case err == nil || err == io.EOF:
		return err
	case d.closed:
		return errStreamClosed
	case d.broken:
		return errDeadline
	}
	return err
}

// stop marks the stream closed and releases the timer. It returns what
// to call, out of the lock, to interrupt an operation still blocked.
func (d *streamDeadline) stop() func() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	d.closed = true
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.busy && !d.broken {
		d.broken = true
		return d.abort
	}
	return func() {}
}

// streamAddr is the address of an HTTP/2 connection's end as net/http
// reports it, a string.
type streamAddr string

func (a streamAddr) Network() string { return "tcp" }
func (a streamAddr) String() string  { return string(a) }

// addrOf returns a as a net.Addr, or a placeholder when it is unknown.
func addrOf(a net.Addr, s string) net.Addr {
	if a != nil {
		return a
	}
	if s == "" {
		s = "unknown"
	}
	return streamAddr(s)
}
