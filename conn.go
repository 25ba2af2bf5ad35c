package websocket

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplexws/websocket/internal/pmdeflate"
	"github.com/duplexws/websocket/internal/wsconn"
)

// Defaults of the options.
const (
	defaultReadLimit    = 32 << 20
	defaultBufferSize   = 4096
	defaultCloseTimeout = 5 * time.Second
)

// Conn is a WebSocket connection, the server's from [Accept] or the client's from [Dial].
//
// Concurrency: one goroutine may read ([Conn.Read], [Conn.Reader] and the
// returned reader, [Conn.ReadJSON]) while any number of goroutines write
// ([Conn.Write], [Conn.Writer], [Conn.WritePrepared], [Conn.WriteJSON],
// [Conn.Ping]). Whole messages are written one at a time: a message never
// interleaves with another, and a concurrent Write waits for the message in
// progress. Pongs and close frames go out between the frames of a long
// message. [Conn.Close] and [Conn.CloseNow] are safe from any goroutine, any
// number of times.
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
// *[CloseError] with the peer's code and reason. After a close every method
// returns an error matching [ErrClosed].
type Conn struct {
	// Lock order (the package doc's Concurrency section says who holds
	// each): readLock, then msgLock, then frameLock, then mu, then the leaf
	// locks inside ended, the two watches and the tracking Server (each
	// guards only its own state). A goroutine holding one may take those
	// after it, never those before; mu is never held across a blocking
	// call. readLock and msgLock are independent (a reader answering a
	// ping takes frameLock alone).
	//
	// Made lazily, so that an idle connection holds none of them: rare
	// (see its comment; peerClose, in it, by peerCloseDone), the channel
	// of ended (by its first Done), the state of a watch (by the first
	// Watch of a context that can end), the wake channel of a semaphore
	// (by its first waiter), and the functions the reader and the writer
	// hand the descriptor's RawConn (netpoll.RawIO's, by the first read
	// and write that go through it). Scratch space is borrowed
	// per use from pools, never kept: a control frame's payload, a large
	// frame's header, the net.Buffers of a writev through net.Conn, the
	// discarded rest of a message. An idle connection is this struct, in one
	// allocation; in goroutine mode, over TCP, also br.sys, net's
	// syscall.RawConn and those two functions; an engine's connection
	// instead has its engineConn (TestConnSize and TestIdleConnAllocs hold
	// the budget).
	//
	// readLock is held by the goroutine reading frames from br, msgLock for
	// the whole of a data message being written, frameLock for one frame.
	readLock  wsconn.Sem
	msgLock   wsconn.Sem
	frameLock wsconn.Sem

	comp      *pmdeflate.State // nil when permessage-deflate is not in use
	readLimit atomic.Int64

	rd readState // guarded by readLock
	// br holds the transport, br.nc, which reads and writes use and the
	// close closes; it is read under readLock, and its buffer is borrowed
	// only while it holds bytes.
	br connReader

	// The closing state. setClosing is the one place that changes
	// closeSent, closeErr and lingering, and end the one place that ends the
	// connection; see their comments for the rule each follows.
	mu        sync.Mutex
	closeSent atomic.Bool   // a close frame went out; no data may follow (written under mu, read freely)
	readBy    atomic.Uint32 // readByCloseRead or readByEngine once something else reads: Read and Reader refuse
	client    bool          // this end is the client: it masks, and expects unmasked frames; never changes
	lingering bool          // a failed connection drains the peer until it closes, before closing TCP
	peerSeen  bool          // the peer's close frame arrived
	begun     uint8         // the MessageType of the message an Engine just began, for its Deliver: set by NextNow or Next, read on the goroutine that calls Deliver next
	ended     wsconn.End    // the connection ended (TCP closed, or left to a lingering failure)
	served    *engineConn   // the Engine serving the connection, if any; told by end

	// rare holds what few connections use (see connRare): made by newConn
	// when the options set any of it, else by its first use, under mu;
	// never replaced once set.
	rare atomic.Pointer[connRare]

	// readWatch and writeWatch end blocked reads and writes when their
	// context ends; readWatch is used under readLock, writeWatch under frameLock.
	readWatch, writeWatch wsconn.CtxWatch
}

// connRare is the part of a Conn that few connections use, or use only
// once they close, kept apart so that an idle connection without it stays
// small. Its first fields are set by newConn and never change; the others
// are guarded by Conn.mu.
type connRare struct {
	subprotocol     string
	extensions      string
	closeTimeout    time.Duration
	writeBufferSize int
	compressFrom    int                  // the smallest message sent compressed
	onPing          func(payload []byte) // hooks from the options, called by the reader
	onPong          func(payload []byte)
	onPingConn      func(c *Conn, payload []byte)
	onPongConn      func(c *Conn, payload []byte)
	stallTimeout    time.Duration // AcceptOptions.StallTimeout; 0 for the default

	stall atomic.Pointer[stallWatch] // made by the first wait inside a message (stall.go)

	// The peer's pings and pongs, counted against controlRate by the
	// reader (controlAllowed), under readLock.
	ctrlTokens float64
	ctrlLast   time.Time

	// Guarded by Conn.mu.
	closeErr     error                    // why the connection closed, once it has: the first reason recorded
	peerClose    chan struct{}            // closed when the peer's close frame arrives, made by peerCloseDone; see peerClosed
	closeWrite   chan struct{}            // made when the close frame is claimed, closed once writeClose has written or abandoned it
	closeBy      time.Time                // the deadline of that write; both set by setClosing, and never changed after
	pings        map[uint64]chan struct{} // the Pings waiting for their pong, by payload
	pingSeq      uint64
	closeReadCtx context.Context // returned by CloseRead, once called
	keepAlive    *keepAlive      // pings the peer; nil without keep-alive
	watchers     *endWatchers    // made by the first Server.add or Context; told by end
}

// endWatchers is what end tells of the connection's end, besides the
// engine serving it; kept apart from connRare, which most connections
// that close or keep alive hold, because few connections have either.
type endWatchers struct {
	server *Server                 // the Server tracking the connection for its shutdown
	ctx    context.Context         // returned by Context
	cancel context.CancelCauseFunc // cancels ctx, with the close error
}

// watchersLocked returns the connection's endWatchers, making them on
// first use; the caller holds mu.
func (c *Conn) watchersLocked() *endWatchers {
	r := c.rareLocked()
	if r.watchers == nil {
		r.watchers = new(endWatchers)
	}
	return r.watchers
}

// rareLocked returns the connection's rare part, making it on first use;
// the caller holds mu.
func (c *Conn) rareLocked() *connRare {
	r := c.rare.Load()
	if r == nil {
		r = &connRare{closeTimeout: defaultCloseTimeout, writeBufferSize: defaultBufferSize}
		c.rare.Store(r)
	}
	return r
}

// closeTimeout bounds the closing handshake and the write of a control frame.
func (c *Conn) closeTimeout() time.Duration {
	if r := c.rare.Load(); r != nil {
		return r.closeTimeout
	}
	return defaultCloseTimeout
}

// writeBufferSize is the size of the frames Writer sends.
func (c *Conn) writeBufferSize() int {
	if r := c.rare.Load(); r != nil {
		return r.writeBufferSize
	}
	return defaultBufferSize
}

// connConfig holds what AcceptOptions and DialOptions set alike, and what
// the handshake agreed on; newConn fills in the defaults, once.
type connConfig struct {
	readLimit       int64
	writeBufferSize int
	pingInterval    time.Duration
	pingTimeout     time.Duration
	closeTimeout    time.Duration
	onPing, onPong  func(payload []byte)
	onPingConn      func(c *Conn, payload []byte)
	onPongConn      func(c *Conn, payload []byte)
	stallTimeout    time.Duration

	subprotocol string
	extensions  string
	comp        *pmdeflate.State    // nil without permessage-deflate
	compression *CompressionOptions // what comp was negotiated from
}

// newConn makes the Conn of br.nc, taking over br, its reader with
// whatever the handshake left buffered.
func newConn(br connReader, client bool, cfg connConfig) *Conn {
	c := &Conn{
		br:     br,
		client: client,
		comp:   cfg.comp,
	}
	// Options set to their defaults cost no record.
	if cfg.closeTimeout == defaultCloseTimeout {
		cfg.closeTimeout = 0
	}
	if cfg.writeBufferSize == defaultBufferSize {
		cfg.writeBufferSize = 0
	}
	if cfg.stallTimeout == defaultStallTimeout {
		cfg.stallTimeout = 0
	}
	if cfg.subprotocol != "" || cfg.extensions != "" || cfg.closeTimeout > 0 || cfg.writeBufferSize > 0 || cfg.comp != nil || cfg.onPing != nil || cfg.onPong != nil ||
		cfg.onPingConn != nil || cfg.onPongConn != nil || cfg.stallTimeout != 0 {
		r := &connRare{
			subprotocol:     cfg.subprotocol,
			extensions:      cfg.extensions,
			closeTimeout:    cfg.closeTimeout,
			writeBufferSize: cfg.writeBufferSize,
			onPing:          cfg.onPing,
			onPong:          cfg.onPong,
			onPingConn:      cfg.onPingConn,
			onPongConn:      cfg.onPongConn,
			stallTimeout:    cfg.stallTimeout,
		}
		if r.closeTimeout <= 0 {
			r.closeTimeout = defaultCloseTimeout
		}
		if r.writeBufferSize <= 0 {
			r.writeBufferSize = defaultBufferSize
		}
		if c.comp != nil {
			r.compressFrom = cfg.compression.threshold()
		}
		c.rare.Store(r)
	}
	c.SetReadLimit(cfg.readLimit)
	if cfg.pingInterval > 0 {
		c.startKeepAlive(cfg.pingInterval, cfg.pingTimeout)
	}
	return c
}

// SetReadLimit sets the largest message, in bytes, that [Conn.Read] and
// [Conn.Reader] accept (after decompression). A larger message fails the
// connection with [StatusMessageTooBig] and the read returns [ErrMessageTooBig]. Zero restores the
// default of 32 MiB; a negative limit removes it.
func (c *Conn) SetReadLimit(n int64) {
	if n == 0 {
		n = defaultReadLimit
	}
	c.readLimit.Store(n)
}

// Subprotocol returns the subprotocol both ends agreed on, or "".
func (c *Conn) Subprotocol() string {
	if r := c.rare.Load(); r != nil {
		return r.subprotocol
	}
	return ""
}

// Extensions returns the negotiated Sec-WebSocket-Extensions value, or "".
func (c *Conn) Extensions() string {
	if r := c.rare.Load(); r != nil {
		return r.extensions
	}
	return ""
}

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.transport().LocalAddr() }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.transport().RemoteAddr() }

// transport returns the connection's transport for a caller that holds
// none of the connection's locks: an Engine swaps it (useTransport) under
// mu, among others.
func (c *Conn) transport() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.br.nc
}

// lockErr turns the error of a failed wait for one of the connection's
// semaphores into the one a caller sees: the context's, or why the
// connection closed.
func (c *Conn) lockErr(err error) error {
	if err == wsconn.ErrEnded {
		return c.closedErr()
	}
	return err
}

// closedErr returns the error that explains why the connection closed.
func (c *Conn) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closedErrLocked()
}

// closedErrLocked is closedErr for a caller holding mu.
func (c *Conn) closedErrLocked() error {
	if r := c.rare.Load(); r != nil && r.closeErr != nil {
		return r.closeErr
	}
	return ErrClosed
}

// setClosing records a step of the connection toward its end, under mu; it
// is the one place that changes closeSent, closeErr and lingering, and it
// never blocks. One rule: the first reason recorded is the one every later
// call reports, whichever path (Close, the peer's close frame, a failure,
// a broken transport) records it first. sendClose claims the sending of the
// close frame: it reports whether none went out before, in which case the
// caller must send it with writeClose (after setClosing returns), which
// [Conn.CloseNow] waits for; either way no data frame may follow. linger
// marks a connection this end failed, whose TCP connection is closed only
// once the peer has answered (see [Conn.linger]).
func (c *Conn) setClosing(reason error, sendClose, linger bool) (mustSend bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.rareLocked(); r.closeErr == nil {
		r.closeErr = reason
	}
	if sendClose && !c.closeSent.Load() {
		mustSend = true
		c.closeSent.Store(true)
		r := c.rareLocked()
		r.closeWrite = make(chan struct{})
		r.closeBy = time.Now().Add(r.closeTimeout)
	}
	if linger {
		c.lingering = true
	}
	return mustSend
}

// ioError turns an error from the network into the one a caller sees; it
// may be called under readLock, msgLock or frameLock, not under mu, and
// ends the connection at once (end), sending nothing. The connection is
// unusable after a failed read or write, so it is closed; the caller gets
// the context's error when ctx ended the operation, else the reason the
// connection closed (a *CloseError with StatusAbnormalClosure when the
// transport failed first).
func (c *Conn) ioError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		c.setClosing(&CloseError{Code: StatusAbnormalClosure, Reason: "operation abandoned: " + ctx.Err().Error()}, false, false)
		c.end()
		return ctx.Err()
	}
	c.setClosing(&CloseError{Code: StatusAbnormalClosure, Reason: err.Error()}, false, false)
	c.end()
	return c.closedErr()
}
