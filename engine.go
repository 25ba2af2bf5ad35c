package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplexws/websocket/internal/engine"
)

// EngineOptions configures an Engine. OnMessage is required; every other
// field has the default it names.
type EngineOptions struct {
	// OnMessage is called with each message a connection receives, in
	// order, one at a time per connection. In event mode it runs on a
	// worker goroutine the engine lends the connection while it has
	// messages (workers are pooled and serve one connection after
	// another); otherwise on the connection's own goroutine. Either way a
	// slow OnMessage holds back its connection only, and keeps a goroutine
	// while it runs. r reads the payload as it arrives (a large message is
	// never held whole) and is valid until OnMessage returns; what is left
	// unread is discarded.
	//
	// Inside OnMessage c may be written to (Write, Writer, WritePrepared,
	// WriteJSON), pinged (Ping: see [ErrPongBehindMessage]) and closed
	// (Close completes the closing handshake by itself; CloseNow); Read
	// and Reader fail at once with an error matching [ErrReadOwned], since
	// the engine reads between two calls. Writes may be made from any
	// other goroutine too.
	OnMessage func(c *Conn, typ MessageType, r io.Reader)

	// OnOpen, when set, is called by Serve for each connection it takes,
	// on Serve's goroutine, before the engine reads the connection: before
	// the connection's first OnMessage, and before Conns yields it. What
	// it returns is the connection's state, which [Engine.State] returns
	// from then on: a user's name, a session, the rooms it joined. The
	// state never changes; a connection whose state changes keeps a
	// pointer there. OnOpen may write to c, ping it (Ping reads its pong
	// itself, as in OnMessage) and close it (OnClose then follows). Nil
	// by default.
	OnOpen func(c *Conn) any

	// OnClose, when set, is called once for each connection Serve took,
	// after the connection has ended (its Context is canceled, and
	// every call on it fails with an error matching [ErrClosed]) and after
	// its last OnMessage has returned, with the reason it ended: a
	// *CloseError as Read would have returned it. State still returns the
	// connection's state there; Conns no longer yields it. Conn.Close
	// does not wait for OnClose; Engine.Shutdown, Engine.Close and
	// Server.Shutdown do. Nil by default.
	OnClose func(c *Conn, err error)

	// Pollers is the number of goroutines that wait for connections to
	// become readable: runtime.GOMAXPROCS(0) when zero.
	Pollers int

	// IdleTimeout, when positive, closes a connection with
	// StatusGoingAway after that long without a message from the peer.
	// Off by default.
	IdleTimeout time.Duration

	// MaxUnfinishedBytes bounds the messages delivered to OnMessage before
	// their end arrived, in progress at once: each counts its
	// connection's read buffer, the most of its payload it holds at a
	// time, and keeps a goroutine while OnMessage waits for the rest. A
	// message that would pass the bound waits with its connection parked,
	// holding the part of it already read and no goroutine, and nothing
	// reads that connection's socket, so the peer's TCP window fills and
	// the peer waits, until earlier such messages have been delivered;
	// messages that arrived whole, and other connections' reading, go on
	// as ever. A connection that has sent only part of a frame larger
	// than the read buffer holds just those bytes and counts nothing. 64
	// MiB when zero (16,384 messages at the default 4 KiB buffer);
	// negative for no bound. Connections served by a goroutine of their
	// own (TLS, HTTP/2, systems without epoll) are not bounded by it.
	MaxUnfinishedBytes int64

	// KeepAlive is the TCP keep-alive period of the sockets the engine
	// accepts itself ([Engine.ServeUpgrades]): 15 s when zero, as
	// net.ListenConfig's; negative turns keep-alive off.
	KeepAlive time.Duration
}

// defaultMaxUnfinished is EngineOptions.MaxUnfinishedBytes's default.
const defaultMaxUnfinished = 64 << 20

// Engine serves connections without a goroutine per connection. A
// connection handed to Serve holds no goroutine and no read buffer while it
// waits for its next message: on Linux a few poller goroutines wait on epoll
// for every connection at once, and a connection gets a goroutine only while
// it has a message to deliver. Serve takes a plain TCP connection's socket
// over from its net.TCPConn, which it closes: from then on the engine's own
// epoll, not the runtime's, tells the connection's reads and writes when to
// go on, so an idle connection costs neither a net.TCPConn nor a runtime
// poll descriptor. [Conn.LocalAddr] then asks the kernel on each call. A
// frame that has partly arrived keeps only its own bytes. A frame larger
// than the read buffer waits, holding only those, until a buffer of it has
// arrived; its message is then streamed to OnMessage from the connection's
// goroutine as it arrives.
//
// Every rule of the protocol holds as when a goroutine calls Read: pings
// are answered, the closing handshake completes, the read limit, UTF-8
// validation and permessage-deflate apply, and keep-alive pings
// (AcceptOptions.PingInterval) see their pongs.
//
// Connections with no file descriptor of their own — TLS terminated by Go,
// HTTP/2 streams, in-memory pipes — and every connection on systems other
// than Linux are served the same way through the same API, by a goroutine
// per connection. Large deployments terminate TLS at a proxy in front.
//
// A connection's life on an engine: Serve calls OnOpen, whose result is the
// connection's [Engine.State]; then OnMessage with each message; then,
// once the connection has ended, OnClose. [Engine.Len] counts the
// connections between Serve and their OnClose, [Engine.Conns] visits
// them, and [Engine.Shutdown] closes them all with StatusGoingAway and
// waits for their OnClose.
type Engine struct {
	opts    EngineOptions
	loop    *engine.Loop[Conn] // parks, schedules and ends the connections
	closing atomic.Bool
	// live counts the connections Serve took whose OnClose has not
	// returned; drained is closed once closing is set and live is zero.
	// Serve counts a connection before it looks at closing, and Shutdown
	// sets closing before it looks at live: either Serve refuses, or
	// Shutdown waits for the connection.
	live      atomic.Int64
	drained   chan struct{}
	drainOnce sync.Once
	// n counts the connections Serve took whose OnClose has not returned,
	// for Len; unlike live, never a connection that Serve refuses.
	n atomic.Int64
}

// engineConn is an Engine's record of a connection it serves, kept by its
// loop; Conn.served points to it.
type engineConn = engine.Conn[Conn]

// NewEngine starts an engine's poller goroutines.
func NewEngine(opts *EngineOptions) (*Engine, error) {
	if opts == nil || opts.OnMessage == nil {
		return nil, errors.New("websocket: NewEngine: EngineOptions.OnMessage is required")
	}
	e := &Engine{opts: *opts, drained: make(chan struct{})}
	if e.opts.Pollers <= 0 {
		e.opts.Pollers = runtime.GOMAXPROCS(0)
	}
	if e.opts.MaxUnfinishedBytes == 0 {
		e.opts.MaxUnfinishedBytes = defaultMaxUnfinished
	}
	loop, err := engine.New((*engineHandler)(e), e.opts.Pollers, e.opts.MaxUnfinishedBytes)
	if err != nil {
		return nil, err
	}
	e.loop = loop
	return e, nil
}

// Serve hands c to the engine: from now on the engine reads c and calls
// OnMessage with its messages, and OnClose once it has ended. Serve does
// not wait for a message; it may wait for a frame that another goroutine is
// writing to c (at most the close timeout), since the engine takes c's
// transport over between two frames. Nothing else may read c (Read, Reader)
// after. A handler that calls Accept and then Serve can return, which lets
// net/http release the request; over HTTP/2, where the connection is the
// request's stream and ends with the handler (see Accept), the handler must
// wait for OnClose instead.
//
// Serve fails when the engine is shutting down, when c has ended, or when
// something else reads c (another engine, CloseRead). The engine has then
// not taken c: neither OnOpen nor OnClose is called for it, and the caller
// still owns c and must close it, with StatusGoingAway when the engine is
// shutting down (the error then matches ErrClosed).
func (e *Engine) Serve(c *Conn) error {
	e.live.Add(1) // before closing is looked at: see live
	ec, err := e.claim(c)
	if err != nil {
		e.left()
		return err
	}
	var state any
	if e.opts.OnOpen != nil {
		// Nothing reads c yet: a Ping in OnOpen reads its pong itself,
		// as in OnMessage.
		ec.SetDelivering(true)
		state = e.opts.OnOpen(c)
		ec.SetDelivering(false)
	}
	if state != nil || e.opts.IdleTimeout > 0 {
		r := &engine.Rare{State: state}
		if e.opts.IdleTimeout > 0 {
			r.Idle = time.AfterFunc(e.opts.IdleTimeout, func() { c.Close(StatusGoingAway, "idle timeout") })
		}
		ec.SetRare(r)
	}
	accepted := ec.Owner() == nil // the engine accepted it (ServeUpgrades): in its table already
	if !accepted {
		e.loop.Add(ec)
	}
	e.n.Add(1) // after Add: Conns yields whatever Len counts
	if e.closing.Load() {
		// Shutdown began after claim looked and may not have seen c.
		go c.Close(StatusGoingAway, "server shutting down")
	}
	if accepted {
		// Its socket is the engine's already: no takeover.
		ec.Adopt(c)
		return nil
	}
	e.loop.Start(ec, c.br.nc)
	return nil
}

// claim makes c the engine's, unless the engine is shutting down or c
// cannot be served.
func (e *Engine) claim(c *Conn) (*engineConn, error) {
	if e.closing.Load() {
		return nil, fmt.Errorf("websocket: Engine.Serve: the engine is shutting down: %w", ErrClosed)
	}
	ec := e.loop.Pending(c.br.nc) // accepted by the engine itself
	if ec == nil {
		ec = e.loop.NewConn(c)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended.Ended() {
		return nil, c.closedErrLocked()
	}
	if c.served != nil {
		return nil, errors.New("websocket: Engine.Serve: the connection is already served by an engine")
	}
	if !c.readBy.CompareAndSwap(0, readByEngine) {
		return nil, errors.New("websocket: Engine.Serve: the connection is read by CloseRead's goroutine")
	}
	c.served = ec
	return ec, nil
}

// State returns what OnOpen returned for c, or nil when c is not served
// by e or OnOpen returned nil. It may be called from any goroutine; in
// OnMessage and OnClose it is a lock and a few loads. The state lives in
// the engine's record of c, so a connection without one costs nothing more.
func (e *Engine) State(c *Conn) any {
	c.mu.Lock()
	ec := c.served
	c.mu.Unlock()
	if ec == nil || ec.Loop() != e.loop {
		return nil
	}
	if r := ec.Rare(); r != nil {
		return r.State
	}
	return nil
}

// Len returns the number of connections the engine serves: those Serve
// took whose OnClose has not returned. Like the length of a channel, it may
// change as soon as it is read; it suits a gauge.
func (e *Engine) Len() int { return int(e.n.Load()) }

// Conns returns an iterator over the open connections the engine serves,
// for a broadcast or to visit each. It takes no lock, so the loop may
// write to, close and Serve connections, and may stop at any time; a
// connection that joins or ends during the loop may be yielded or not,
// and one that ends may still be yielded after its end, where a write to it
// fails with an error matching ErrClosed. A write from the loop waits
// for the connection's socket: a broadcast to many slow peers bounds each
// write with a context, or writes from a goroutine per peer (WritePrepared
// spares compressing a message once per connection).
func (e *Engine) Conns() iter.Seq[*Conn] {
	return func(yield func(*Conn) bool) {
		for ec := range e.loop.Each {
			if !ec.Closed() && !yield(ec.Owner()) {
				return
			}
		}
	}
}

// left counts off a connection whose OnClose has returned, or that Serve
// refused.
func (e *Engine) left() {
	if e.live.Add(-1) == 0 && e.closing.Load() {
		e.drainOnce.Do(func() { close(e.drained) })
	}
}

// Shutdown closes every connection the engine serves with StatusGoingAway
// (1001), running all their closing handshakes at once, each bounded by its
// close timeout, and returns once the OnClose of every one of them has
// returned; then it stops the pollers. Serve fails from the moment
// Shutdown is called.
//
// When ctx ends first, the connections still open are closed at once (as
// CloseNow, without waiting for a close frame on its way), Shutdown waits
// at most one more second for their OnClose, and returns an error wrapping
// ctx's that says how many were left. A later Shutdown or Close waits for
// the same connections and returns nil once they are done.
func (e *Engine) Shutdown(ctx context.Context) error {
	if e.closing.CompareAndSwap(false, true) {
		if e.live.Load() == 0 {
			e.drainOnce.Do(func() { close(e.drained) })
		}
		for ec := range e.loop.Each {
			go ec.Owner().Close(StatusGoingAway, "server shutting down")
		}
		// Connections accepted by ServeUpgrades whose request has not
		// arrived will never be served.
		e.loop.ClosePending()
	}
	select {
	case <-e.drained:
		return e.loop.Close()
	case <-ctx.Done():
	}
	left := e.live.Load()
	for ec := range e.loop.Each {
		if !ec.Done() {
			ec.Owner().endSoon()
		}
	}
	err := fmt.Errorf("websocket: Engine.Shutdown: %d connections were still open and were closed at once: %w", left, ctx.Err())
	t := time.NewTimer(onCloseWait)
	defer t.Stop()
	select {
	case <-e.drained:
	case <-t.C:
		err = fmt.Errorf("%w; the OnClose of %d had not returned %v later", err, e.live.Load(), onCloseWait)
	}
	e.loop.Close()
	return err
}

// onCloseWait is how long Engine.Shutdown and Server.Shutdown wait for the
// connections they closed at once, when their context ended, to end and for
// their OnClose and handlers to return.
const onCloseWait = time.Second

// engineCloseWait bounds Engine.Close: twice the default close timeout.
const engineCloseWait = 2 * defaultCloseTimeout

// Close is Shutdown with a context that ends after 10 seconds, twice the
// default close timeout: it closes every connection with StatusGoingAway
// and waits for their OnClose.
func (e *Engine) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), engineCloseWait)
	defer cancel()
	return e.Shutdown(ctx)
}

// engineHandler is an Engine as its loop sees it (engine.Handler): what
// reads, delivers and ends the connections the loop schedules.
type engineHandler Engine

// NextNow begins the next message of an event-mode connection if its first
// frame has arrived, answering the control frames before it, and says
// whether the message has arrived whole.
func (h *engineHandler) NextNow(c *Conn, fresh, hangup bool) (engine.Begun, error) {
	if err := c.readLock.Lock(context.Background(), &c.ended); err != nil {
		return engine.NoMessage, c.lockErr(err)
	}
	defer c.unlockRead()
	if w := c.stallArmed(); w != nil {
		w.waiting.Store(false) // not parked: reading what arrived
	}
	if fresh {
		c.br.drained = false
	}
	c.br.hangup = hangup
	c.br.nonblock = true
	err := c.nextMessage(context.Background())
	c.br.nonblock = false
	switch {
	case err == errWouldBlock:
		c.br.shrink()
		// Parked with part of a frame: the stall watch (stall.go) sees
		// that the peer goes on with it.
		if n := c.br.buffered(); n > 0 {
			c.stallPark(n)
		} else {
			c.stallEnd()
		}
		return engine.NoMessage, nil
	case err != nil:
		return engine.NoMessage, err
	}
	c.begun = uint8(c.rd.typ)
	if c.rd.fin && c.rd.frameLeft <= int64(c.br.buffered()) {
		return engine.WholeMessage, nil
	}
	return engine.UnfinishedMessage, nil
}

// Next waits for the next message of a connection served by a goroutine of
// its own, and begins it.
func (h *engineHandler) Next(c *Conn) error {
	typ, _, err := c.reader(context.Background())
	c.begun = uint8(typ)
	return err
}

// Holds returns the read buffer's size: what a message delivered before
// its end arrived holds at most while OnMessage reads it.
func (h *engineHandler) Holds(c *Conn) int { return int(c.br.size) }

// Deliver hands the message just begun to OnMessage.
func (h *engineHandler) Deliver(ec *engineConn) {
	if r := ec.Rare(); r != nil && r.Idle != nil {
		r.Idle.Reset(h.opts.IdleTimeout)
	}
	c := ec.Owner()
	// The type NextNow or Next kept: c.rd.typ is readLock's, and Close
	// may read the connection between them and here.
	h.opts.OnMessage(c, MessageType(c.begun), c.messageReader())
}

// Closed calls OnClose, then tells the Server tracking the connection,
// which waits for OnClose (Conn.end leaves telling it to here).
func (h *engineHandler) Closed(ec *engineConn) {
	if r := ec.Rare(); r != nil && r.Idle != nil {
		r.Idle.Stop()
	}
	c := ec.Owner()
	if h.opts.OnClose != nil {
		h.opts.OnClose(c, c.closedErr())
	}
	if s := c.trackedBy(); s != nil {
		s.connClosed(c)
	}
	e := (*Engine)(h)
	e.n.Add(-1)
	e.left()
}

// UseTransport makes t the connection's transport in place of the one it
// was made with, under every lock that guards it, so that a read, a write
// or a deadline never sees half of each; the bytes the reader buffered stay.
// It waits at most the close timeout for a frame being written. It reports
// false, changing nothing, when the connection has ended or is failing (a
// lingering close reads the old transport with no lock held), or when its
// locks stayed busy.
func (h *engineHandler) UseTransport(c *Conn, t net.Conn) bool {
	ctx, cancel := context.WithTimeout(context.Background(), c.closeTimeout())
	defer cancel()
	if c.readLock.Lock(ctx, &c.ended) != nil {
		return false
	}
	defer c.readLock.Unlock()
	if c.frameLock.Lock(ctx, &c.ended) != nil {
		return false
	}
	defer c.frameLock.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended.Ended() || c.lingering {
		return false
	}
	c.br.nc = t
	c.br.sys = nil
	c.readWatch.Replace(t)
	c.writeWatch.Replace(t)
	return true
}
