package legacy

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	websocket "github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/utf8stream"
	"github.com/duplexws/websocket/internal/wsconn"
)

const (
	// defaultReadLimit is the largest message read by default, as in the core.
	defaultReadLimit = 32 << 20
	// defaultCloseTimeout bounds the closing handshake by default, as in the core.
	defaultCloseTimeout = 5 * time.Second
)

var (
	// ErrBinaryUnsupported is returned by Write and Writer for
	// websocket.MessageBinary: hixie-76 has no binary messages. Send binary
	// data as text (base64, for instance) or use RFC 6455.
	ErrBinaryUnsupported = errors.New("legacy: hixie-76 cannot send binary messages")
	// ErrInvalidUTF8 is returned by Write and Writer for text that is not
	// valid UTF-8: hixie-76 frames end at the first 0xFF byte, which UTF-8
	// never contains, so nothing else can be sent.
	ErrInvalidUTF8 = errors.New("legacy: text message is not valid UTF-8")
)

// Conn is a hixie-76 WebSocket connection, made by Accept or Dial.
//
// One goroutine may read (Read, Reader and the io.Reader it returns) while
// any number of goroutines write (Write, Writer): whole messages are written
// one at a time and never interleave. Close and CloseNow may be called from
// any goroutine at any time, also while a read or write is blocked.
//
// Closing: Close sends the closing frame (0xFF 0x00), waits at most the close
// timeout for the peer's, then closes the TCP connection. When the peer starts
// the closing handshake, the next read answers it, closes the TCP connection
// and returns an error holding websocket.ErrClosed and a *websocket.CloseError
// with code websocket.StatusNoStatusRcvd, since hixie-76 closing frames carry
// no status. Every read and write after the connection closed returns an
// error for which errors.Is(err, websocket.ErrClosed) holds.
type Conn struct {
	nc           net.Conn
	fr           frameReader
	subprotocol  string
	closeTimeout time.Duration
	readLimit    atomic.Int64 // < 0: no limit

	// readSem is held by the reading goroutine, or by Close while it reads
	// on its own to find the peer's closing frame.
	readSem wsconn.Sem
	// Guarded by readSem.
	msg     message // the text message being read
	readErr error   // once set, every later read returns it

	// writeSem is held while one whole message or the closing frame is written.
	writeSem wsconn.Sem
	// Guarded by writeSem.
	closeSent bool
	writeBuf  []byte // frames built for Write; reused between messages

	closeStarted atomic.Bool // Close was called

	peerClosed     chan struct{} // closed when the peer's closing frame arrived
	peerClosedOnce sync.Once
	tcpClosed      wsconn.End // the TCP connection is closed

	// readWatch and writeWatch interrupt blocked reads and writes when
	// their context ends; readWatch is used under readSem, writeWatch
	// under writeSem.
	readWatch, writeWatch wsconn.CtxWatch

	mu       sync.Mutex
	closeErr error // why the connection closed; the first reason wins
}

// message is the state of the text message being read.
type message struct {
	gen    uint64 // counts messages, so a stale io.Reader notices a newer one
	active bool   // the body is being read: the terminating 0xFF is still ahead
	n      int64  // body bytes read so far
	utf8   utf8stream.Validator
}

func newConn(nc net.Conn, br *bufio.Reader, subprotocol string, readLimit int64, closeTimeout time.Duration) *Conn {
	if readLimit == 0 {
		readLimit = defaultReadLimit
	}
	if closeTimeout <= 0 {
		closeTimeout = defaultCloseTimeout
	}
	c := &Conn{
		nc:           nc,
		fr:           frameReader{br: br},
		subprotocol:  subprotocol,
		closeTimeout: closeTimeout,
		peerClosed:   make(chan struct{}),
	}
	c.readLimit.Store(readLimit)
	return c
}

// SetReadLimit sets the largest message, in bytes, that Read and Reader
// accept; a longer one closes the connection and the read returns an error
// holding websocket.ErrMessageTooBig. Zero restores the default of 32 MiB; a
// negative n removes the limit. Frames that are read only to be discarded
// obey the same limit.
func (c *Conn) SetReadLimit(n int64) {
	if n == 0 {
		n = defaultReadLimit
	}
	c.readLimit.Store(n)
}

// Subprotocol returns the subprotocol agreed in the handshake, or "" if none.
func (c *Conn) Subprotocol() string {
	return c.subprotocol
}

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr {
	return c.nc.LocalAddr()
}

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr {
	return c.nc.RemoteAddr()
}

// closedError is returned by calls made after the connection closed. It
// holds websocket.ErrClosed, the *websocket.CloseError that says why, and the
// error that caused it, if any.
type closedError struct {
	ce    *websocket.CloseError
	cause error
}

func (e *closedError) Error() string {
	if e.cause != nil {
		return "legacy: " + e.ce.Error() + ": " + e.cause.Error()
	}
	return "legacy: " + e.ce.Error()
}

func (e *closedError) Unwrap() []error {
	errs := []error{websocket.ErrClosed, e.ce}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

func newClosedError(code websocket.StatusCode, reason string, cause error) error {
	return &closedError{ce: &websocket.CloseError{Code: code, Reason: reason}, cause: cause}
}

// setCloseErr records why the connection closed, unless a reason is known.
func (c *Conn) setCloseErr(err error) {
	c.mu.Lock()
	if c.closeErr == nil {
		c.closeErr = err
	}
	c.mu.Unlock()
}

// closedErr returns the error for calls made after the connection closed.
func (c *Conn) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeErr == nil {
		return newClosedError(websocket.StatusAbnormalClosure, "", nil)
	}
	return c.closeErr
}

// closeTCP closes the TCP connection and reports whether this call did;
// later calls do nothing.
func (c *Conn) closeTCP() bool {
	if !c.tcpClosed.Close() {
		return false
	}
	c.readWatch.Release()
	c.writeWatch.Release()
	_ = c.nc.Close()
	return true
}

// isTCPClosed reports whether closeTCP has run.
func (c *Conn) isTCPClosed() bool { return c.tcpClosed.Ended() }

// closeDeadline is when a closing handshake started now must be over.
func (c *Conn) closeDeadline() time.Time {
	return time.Now().Add(c.closeTimeout)
}
