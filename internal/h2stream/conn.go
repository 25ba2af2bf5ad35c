// Package h2stream carries a WebSocket on one HTTP/2 stream (RFC 8441):
// the stream as a net.Conn with deadlines (Conn), its opening at both ends
// through net/http (NewServerConn, Connect), and every workaround of
// net/http's behaviour that this takes. Each workaround names the Go release
// whose behaviour it answers, and a test beside it fails when a release
// changes that behaviour.
package h2stream

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/duplexws/websocket/internal/wsconn"
)

// Conn presents one HTTP/2 stream carrying a WebSocket (RFC 8441) as a
// net.Conn, so that a WebSocket runs on it as on TCP: reads come from the
// stream's incoming DATA frames, writes go out as DATA frames, and read and
// write deadlines work as net.Conn's do, which is what ping, keep-alive,
// context cancellation and the close timeouts rest on.
//
// net/http's streams have no such deadlines (its own reset the stream when
// they pass, even with no read or write waiting), so Conn keeps its own
// (wsconn.Deadline). A read of the stream cannot be interrupted but by
// breaking the stream, so the stream is read by a goroutine of its own,
// started by the first Read, which hands what it read to the Reads one
// buffer at a time: a Read whose deadline passes returns, the stream's read
// goes on, and the next Read takes what it brings, so that a read deadline
// (a context that ends between two messages) leaves the stream usable, as
// on TCP. A write whose deadline passes while it waits is interrupted by
// breaking that direction of the stream, after which the WebSocket closes it.
//
// Closing is RFC 8441 §6's mapping of TCP: an orderly close ends the
// stream with END_STREAM, an abort resets it.
type Conn struct {
	r io.ReadCloser // the stream's incoming data
	w io.Writer     // the stream's outgoing data, flushed by each Write

	// abortWrite breaks a blocked write; closeFn ends the stream. Each
	// is called once at most.
	abortWrite func()
	closeFn    func() error

	local, remote net.Addr

	rd, wd *wsconn.Deadline

	// The reading side: startRead starts pump, which hands each chunk it
	// read over in, and takes the next once the Reads have taken it all
	// (free). cur, what the Reads have not taken of the last chunk, is
	// guarded by the WebSocket's read lock, as a net.Conn's reads are.
	startRead sync.Once
	in        chan streamChunk
	free      chan struct{}
	cur       streamChunk

	mu       sync.Mutex
	closed   bool
	done     chan struct{} // closed by Close as it begins
	finished chan struct{} // closed by Close as it returns
	writing  bool          // a Write is under way
	wrote    sync.Cond     // signalled, under mu, as a Write ends
	broken   bool          // a write was interrupted: nothing more can be written
}

// streamChunk is what one read of the stream brought.
type streamChunk struct {
	p   []byte
	err error
}

// streamChunkSize is the size of the buffer the stream is read into.
const streamChunkSize = 16 << 10

func newConn(s *Conn) *Conn {
	s.rd, s.wd = wsconn.NewDeadline(), wsconn.NewDeadline()
	s.in = make(chan streamChunk)
	s.free = make(chan struct{}, 1)
	s.done = make(chan struct{})
	s.finished = make(chan struct{})
	s.wrote.L = &s.mu
	return s
}

// errStreamClosed is what reads and writes return after Close.
var errStreamClosed = fmt.Errorf("HTTP/2 stream: %w", net.ErrClosed)

// errDeadline is returned once the deadline has passed; it matches
// os.ErrDeadlineExceeded, as a net.Conn's timeout does.
var errDeadline = fmt.Errorf("HTTP/2 stream: %w", os.ErrDeadlineExceeded)

func (s *Conn) Read(p []byte) (int, error) {
	if len(s.cur.p) == 0 && s.cur.err == nil {
		ctx := s.rd.Context()
		select {
		case <-s.done:
			return 0, errStreamClosed
		default:
		}
		if ctx.Err() != nil {
			return 0, errDeadline
		}
		s.startRead.Do(func() { go s.pump() })
		select {
		case s.cur = <-s.in:
		case <-ctx.Done():
			return 0, errDeadline
		case <-s.done:
			return 0, errStreamClosed
		}
	}
	n := copy(p, s.cur.p)
	s.cur.p = s.cur.p[n:]
	if len(s.cur.p) > 0 {
		return n, nil
	}
	if s.cur.err != nil {
		return n, s.cur.err // the stream's end, for this and every later Read
	}
	s.free <- struct{}{}
	return n, nil
}

// pump reads the stream until it ends or is closed, handing each chunk to
// the Reads and waiting for them to take it all before it reads again.
func (s *Conn) pump() {
	buf := make([]byte, streamChunkSize)
	for {
		n, err := s.r.Read(buf)
		if n == 0 && err == nil {
			continue
		}
		select {
		case s.in <- streamChunk{buf[:n], err}:
		case <-s.done:
			return
		}
		if err != nil {
			return
		}
		select {
		case <-s.free:
		case <-s.done:
			return
		}
	}
}

func (s *Conn) Write(p []byte) (int, error) {
	ctx := s.wd.Context()
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return 0, errStreamClosed
	case s.broken || ctx.Err() != nil:
		s.mu.Unlock()
		return 0, errDeadline
	}
	s.writing = true
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, s.breakWrite)
	n, err := s.w.Write(p)
	stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writing = false
	s.wrote.Broadcast()
	switch {
	case err == nil:
		return n, nil
	case s.closed:
		return n, errStreamClosed
	case s.broken:
		return n, errDeadline
	}
	return n, err
}

// breakWrite interrupts a Write whose deadline passed while it waited.
func (s *Conn) breakWrite() {
	s.mu.Lock()
	abort := s.writing && !s.broken && !s.closed
	if abort {
		s.broken = true
	}
	s.mu.Unlock()
	if abort {
		s.abortWrite()
	}
}

// Close ends the stream. Blocked reads and writes return: a write waiting
// for flow control resets the stream, since nothing else ends the wait.
// Close returns once no Write is under way, and every later Write fails, so
// that a server's handler may return as soon as Close has (net/http's
// ResponseWriter must not be written after that); a second Close waits for
// the first.
func (s *Conn) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.finished
		return nil
	}
	s.closed = true
	close(s.done)
	abort := s.writing && !s.broken
	s.broken = true
	s.mu.Unlock()
	if abort {
		s.abortWrite()
	}
	s.mu.Lock()
	for s.writing {
		s.wrote.Wait()
	}
	s.mu.Unlock()
	defer close(s.finished)
	return s.closeFn()
}

func (s *Conn) LocalAddr() net.Addr  { return s.local }
func (s *Conn) RemoteAddr() net.Addr { return s.remote }

func (s *Conn) SetDeadline(t time.Time) error {
	s.rd.Set(t)
	s.wd.Set(t)
	return nil
}

func (s *Conn) SetReadDeadline(t time.Time) error  { s.rd.Set(t); return nil }
func (s *Conn) SetWriteDeadline(t time.Time) error { s.wd.Set(t); return nil }

// addr is the address of an HTTP/2 connection's end as net/http
// reports it, a string.
type addr string

func (a addr) Network() string { return "tcp" }
func (a addr) String() string  { return string(a) }

// addrOf returns a as a net.Addr, or a placeholder when it is unknown.
func addrOf(a net.Addr, s string) net.Addr {
	if a != nil {
		return a
	}
	if s == "" {
		s = "unknown"
	}
	return addr(s)
}
