package websocket

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the options.
const (
	defaultReadLimit    = 32 << 20
	defaultBufferSize   = 4096
	defaultCloseTimeout = 5 * time.Second
)

// Conn is a WebSocket connection, the server's from Accept or the client's from Dial.
//
// Concurrency: one goroutine may read (Read, Reader and the returned reader,
// ReadJSON) while any number of goroutines write (Write, Writer,
// WritePrepared, WriteJSON, Ping).
// Whole messages are written one at a time: a message never interleaves with
// another, and a concurrent Write waits for the message in progress. Pongs and
// close frames go out between the frames of a long message. Close and CloseNow
// are safe from any goroutine, any number of times.
//
// Control frames are handled inside Read and Reader: a ping is answered with a
// pong, a pong completes Ping, and a close frame completes the closing
// handshake. A connection must therefore be read for Ping, keep-alive and
// Close to see the peer's answers; Close reads by itself when no Read is
// running, and CloseRead reads for a connection that only writes.
//
// Closing: Close sends a close frame, waits (at most the close timeout) for the
// peer's close frame, and closes the TCP connection; a server closes it at once,
// a client waits for the server to close it first (RFC 6455 §7.1.1). When the
// peer closes first, the Read in progress answers its close frame and returns a
// *CloseError with the peer's code and reason. After a close every method
// returns an error matching ErrClosed.
type Conn struct {
	nc     net.Conn
	br     *connReader
	client bool // this end is the client: it masks, and expects unmasked frames

	subprotocol string
	extensions  string
	comp        *compression // nil when permessage-deflate is not in use

	readLimit       atomic.Int64
	writeBufferSize int
	closeTimeout    time.Duration
	onPing, onPong  func(payload []byte) // hooks from the options, called by the reader

	// readLock is held by the goroutine reading frames from br.
	readLock chan struct{}
	rd       readState // guarded by readLock

	// msgLock is held for the whole of a data message, frameLock for one frame.
	msgLock   chan struct{}
	frameLock chan struct{}
	// A large frame's header, and its header and payload as one writev;
	// kept here, under frameLock, so that writing a frame allocates nothing.
	whdr  [maxHeaderSize]byte
	wv    [2][]byte
	wbufs net.Buffers

	mu        sync.Mutex
	closeSent bool          // a close frame went out; no data may follow
	lingering bool          // a failed connection drains the peer until it closes, before closing TCP
	closeErr  error         // why the connection closed, once it has
	peerClose chan struct{} // closed when the peer's close frame arrives
	done      chan struct{} // closed when the connection ends (TCP closed, or left to a lingering failure)
	pings     map[uint64]chan struct{}
	pingSeq   uint64

	closeReadCtx context.Context // returned by CloseRead, once called
	readClosed   atomic.Bool     // CloseRead was called: Read and Reader refuse

	keepAlive *time.Timer // pings the peer; nil without keep-alive
	served    *engineConn // the Engine serving the connection, if any; told by CloseNow
	server    *Server     // the Server tracking the connection for its shutdown, if any; told by CloseNow

	// readWatch and writeWatch end blocked reads and writes when their
	// context ends; readWatch is used under readLock, writeWatch under frameLock.
	readWatch, writeWatch ctxWatch
}

// connConfig holds the settings shared by AcceptOptions and DialOptions.
type connConfig struct {
	readLimit       int64
	readBufferSize  int
	writeBufferSize int
	pingInterval    time.Duration
	pingTimeout     time.Duration
	closeTimeout    time.Duration
	onPing, onPong  func(payload []byte)
}

// connConfig returns the connection settings of the options.
func (o *AcceptOptions) connConfig() connConfig {
	return connConfig{
		readLimit:       o.ReadLimit,
		writeBufferSize: o.WriteBufferSize,
		pingInterval:    o.PingInterval,
		pingTimeout:     o.PingTimeout,
		closeTimeout:    o.CloseTimeout,
		onPing:          o.OnPing,
		onPong:          o.OnPong,
	}
}

// connConfig returns the connection settings of the options.
func (o *DialOptions) connConfig() connConfig {
	return connConfig{
		readLimit:       o.ReadLimit,
		writeBufferSize: o.WriteBufferSize,
		pingInterval:    o.PingInterval,
		pingTimeout:     o.PingTimeout,
		closeTimeout:    o.CloseTimeout,
		onPing:          o.OnPing,
		onPong:          o.OnPong,
	}
}

func newConn(nc net.Conn, br *connReader, client bool, cfg connConfig) *Conn {
	c := &Conn{
		nc:              nc,
		br:              br,
		client:          client,
		writeBufferSize: cfg.writeBufferSize,
		closeTimeout:    cfg.closeTimeout,
		onPing:          cfg.onPing,
		onPong:          cfg.onPong,
		readLock:        make(chan struct{}, 1),
		msgLock:         make(chan struct{}, 1),
		frameLock:       make(chan struct{}, 1),
		peerClose:       make(chan struct{}),
		done:            make(chan struct{}),
	}
	c.readWatch.setDeadline = nc.SetReadDeadline
	c.writeWatch.setDeadline = nc.SetWriteDeadline
	if c.writeBufferSize <= 0 {
		c.writeBufferSize = defaultBufferSize
	}
	if c.closeTimeout <= 0 {
		c.closeTimeout = defaultCloseTimeout
	}
	c.SetReadLimit(cfg.readLimit)
	if cfg.pingInterval > 0 {
		c.startKeepAlive(cfg.pingInterval, cfg.pingTimeout)
	}
	return c
}

// SetReadLimit sets the largest message, in bytes, that Read and Reader
// accept (after decompression). A larger message fails the connection with
// StatusMessageTooBig and the read returns ErrMessageTooBig. Zero restores the
// default of 32 MiB; a negative limit removes it.
func (c *Conn) SetReadLimit(n int64) {
	if n == 0 {
		n = defaultReadLimit
	}
	c.readLimit.Store(n)
}

// Subprotocol returns the subprotocol both ends agreed on, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Extensions returns the negotiated Sec-WebSocket-Extensions value, or "".
func (c *Conn) Extensions() string { return c.extensions }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// lock takes the one-slot semaphore l, giving up when ctx ends or the
// connection closes.
func (c *Conn) lock(ctx context.Context, l chan struct{}) error {
	select {
	case l <- struct{}{}:
		return nil
	default:
	}
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.closedErr()
	}
}

func unlock(l chan struct{}) { <-l }

// closedErr returns the error that explains why the connection closed.
func (c *Conn) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeErr != nil {
		return c.closeErr
	}
	return ErrClosed
}

// setCloseErr records why the connection ended, keeping the first reason.
func (c *Conn) setCloseErr(err error) {
	c.mu.Lock()
	if c.closeErr == nil {
		c.closeErr = err
	}
	c.mu.Unlock()
}

// ioError turns an error from the network into the one a caller sees. The
// connection is unusable after a failed read or write, so it is closed; the
// caller gets the context's error when ctx ended the operation, else the
// reason the connection closed (a *CloseError with StatusAbnormalClosure
// when the transport failed first).
func (c *Conn) ioError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		c.setCloseErr(&CloseError{Code: StatusAbnormalClosure, Reason: "operation abandoned: " + ctx.Err().Error()})
		c.CloseNow()
		return ctx.Err()
	}
	c.setCloseErr(&CloseError{Code: StatusAbnormalClosure, Reason: err.Error()})
	c.CloseNow()
	return c.closedErr()
}
