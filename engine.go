package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplexws/websocket/internal/netpoll"
	"github.com/duplexws/websocket/internal/wsconn"
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
}

// Engine serves connections without a goroutine per connection. A
// connection handed to Serve holds no goroutine and no read buffer while it
// waits for its next message: on Linux a few poller goroutines wait on epoll
// for every connection at once, and a connection gets a goroutine only while
// it has a message to deliver. Serve takes a plain TCP connection's socket
// over from its net.TCPConn, which it closes: from then on the engine's own
// epoll, not the runtime's, tells the connection's reads and writes when to
// go on, so an idle connection costs neither a net.TCPConn nor a runtime
// poll descriptor. [Conn.LocalAddr] then asks the kernel on each call. A
// frame that has partly arrived keeps only its own bytes. A message larger
// than the read buffer is streamed to OnMessage from the connection's
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
	pollers []*netpoll.Poller // empty where there is no event mode
	closing atomic.Bool
	conns   connTable
	// live counts the connections Serve took whose OnClose has not
	// returned; drained is closed once closing is set and live is zero.
	// Serve counts a connection before it looks at closing, and Shutdown
	// sets closing before it looks at live: either Serve refuses, or
	// Shutdown waits for the connection.
	live      atomic.Int64
	drained   chan struct{}
	drainOnce sync.Once
	stopOnce  sync.Once // stops the pollers
	// n counts the connections Serve took whose OnClose has not returned,
	// for Len; unlike live, never a connection that Serve refuses.
	n atomic.Int64
	// work hands a connection with bytes to read to an idle worker. spare
	// counts the workers waiting on it; see worker.
	work  chan *engineConn
	spare atomic.Int32
}

// How long a worker goroutine waits for another connection to serve before
// it exits. Reusing workers spares each burst of messages a new goroutine
// whose stack grows again to what writing a message takes; but a parked
// worker keeps that stack, so only as many of them as there are pollers
// (GOMAXPROCS by default) wait workerIdle, and the others, which a burst
// over many connections left behind, exit after workerLinger.
const (
	workerIdle   = 2 * time.Second
	workerLinger = 20 * time.Millisecond
)

// NewEngine starts an engine's poller goroutines.
func NewEngine(opts *EngineOptions) (*Engine, error) {
	if opts == nil || opts.OnMessage == nil {
		return nil, errors.New("websocket: NewEngine: EngineOptions.OnMessage is required")
	}
	e := &Engine{opts: *opts, work: make(chan *engineConn), drained: make(chan struct{})}
	if e.opts.Pollers <= 0 {
		e.opts.Pollers = runtime.GOMAXPROCS(0)
	}
	pollers, err := newPollers(e, e.opts.Pollers)
	if err != nil {
		return nil, err
	}
	e.pollers = pollers
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
		ec.flags.Or(flagOnMsg)
		state = e.opts.OnOpen(c)
		ec.flags.And(^flagOnMsg)
	}
	if state != nil || e.opts.IdleTimeout > 0 {
		r := &engineRare{state: state}
		if e.opts.IdleTimeout > 0 {
			r.idle = time.AfterFunc(e.opts.IdleTimeout, func() { c.Close(StatusGoingAway, "idle timeout") })
		}
		c.mu.Lock() // State reads it under c.mu
		ec.rare = r
		c.mu.Unlock()
	}
	e.conns.Add(ec)
	e.n.Add(1) // after add: Conns yields whatever Len counts
	if e.closing.Load() {
		// Shutdown began after claim looked and may not have seen c.
		go c.Close(StatusGoingAway, "server shutting down")
	}
	// The first run reads what the handshake left buffered, and what
	// arrived before the poller watched the descriptor.
	if e.takeOver(ec) {
		e.dispatch(ec)
	} else {
		go ec.runBlocking()
	}
	return nil
}

// claim makes c the engine's, unless the engine is shutting down or c
// cannot be served.
func (e *Engine) claim(c *Conn) (*engineConn, error) {
	if e.closing.Load() {
		return nil, fmt.Errorf("websocket: Engine.Serve: the engine is shutting down: %w", ErrClosed)
	}
	ec := &engineConn{e: e, c: c}
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
	var r *engineRare
	if ec != nil {
		r = ec.rare
	}
	c.mu.Unlock()
	if ec == nil || ec.e != e || r == nil {
		return nil
	}
	return r.state
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
		for ec := range e.conns.Each {
			if ec.flags.Load()&flagClosed == 0 && !yield(ec.c) {
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

// dispatch runs ec on an idle worker, or on a new one.
func (e *Engine) dispatch(ec *engineConn) {
	select {
	case e.work <- ec:
	default:
		go e.worker(ec)
	}
}

// worker serves ec, then the connections it is handed, until none comes
// for workerIdle (workerLinger when as many others as there are pollers
// wait already).
func (e *Engine) worker(ec *engineConn) {
	var idle *time.Timer
	for {
		ec.run()
		wait := workerIdle
		if e.spare.Add(1) > int32(e.opts.Pollers) {
			wait = workerLinger
		}
		if idle == nil {
			idle = time.NewTimer(wait)
		} else {
			idle.Reset(wait)
		}
		select {
		case ec = <-e.work:
			e.spare.Add(-1)
		case <-idle.C:
			e.spare.Add(-1)
			return
		}
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
		for ec := range e.conns.Each {
			go ec.c.Close(StatusGoingAway, "server shutting down")
		}
	}
	select {
	case <-e.drained:
		return e.stopPollers()
	case <-ctx.Done():
	}
	left := e.live.Load()
	for ec := range e.conns.Each {
		if ec.flags.Load()&flagEnded == 0 {
			ec.c.endSoon()
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
	e.stopPollers()
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

// stopPollers stops the poller goroutines, once.
func (e *Engine) stopPollers() error {
	var errs []error
	e.stopOnce.Do(func() {
		for _, p := range e.pollers {
			errs = append(errs, p.Close())
		}
	})
	return errors.Join(errs...)
}

// Flags of an engine connection, in one word: the state of its reading,
// and what happened to it.
const (
	stateIdle    uint32 = iota // waiting in the poller, no goroutine
	stateRunning               // a goroutine reads and delivers messages
	statePending               // running, and the poller saw more bytes arrive
	stateMask    uint32 = 3

	flagEvents uint32 = 1 << 2 // the engine's epoll watches the connection's descriptor
	flagClosed uint32 = 1 << 3 // the connection ended (Conn.end ran)
	flagEnded  uint32 = 1 << 4 // OnClose was called
	flagHangup uint32 = 1 << 5 // the poller saw the peer close or reset its end
	flagOnMsg  uint32 = 1 << 6 // OnOpen or OnMessage runs: the engine does not read the connection
)

// engineConn is a connection an engine serves.
type engineConn struct {
	fd    netpoll.Conn // the connection's transport in event mode (fdTransport)
	e     *Engine
	c     *Conn
	id    uint64 // in e.conns, until the connection ends and its transport is closed
	flags atomic.Uint32
	rare  *engineRare // nil unless the connection has a state or an idle timer; set by Serve
}

// engineRare is what only some of an engine's connections have, kept apart
// so that engineConn stays in its size class: a state, an idle timer, or a
// Listener's guard.
type engineRare struct {
	idle  *time.Timer   // closes the connection after IdleTimeout without a message
	state any           // what OnOpen returned
	guard *wsconn.Guard // the Listener that accepted the socket, counting it until it closes
}

// setState moves the connection's state from one to another, keeping its
// other flags; it fails when the state is not from.
func (ec *engineConn) setState(from, to uint32) bool {
	for {
		f := ec.flags.Load()
		if f&stateMask != from {
			return false
		}
		if ec.flags.CompareAndSwap(f, f&^stateMask|to) {
			return true
		}
	}
}

// ready starts a goroutine for the connection, or tells the running one
// to read again before it parks.
func (ec *engineConn) ready() {
	for {
		f := ec.flags.Load()
		if f&(flagEvents|flagEnded) != flagEvents {
			return // a goroutine serves it, or it has ended
		}
		switch f & stateMask {
		case stateIdle:
			if ec.setState(stateIdle, stateRunning) {
				ec.e.dispatch(ec)
				return
			}
		case stateRunning:
			if ec.setState(stateRunning, statePending) {
				return
			}
		default:
			return
		}
	}
}

// run delivers the messages that have arrived, then parks the connection
// in its poller.
func (ec *engineConn) run() {
	c := ec.c
	fresh := true
	for n := 1; ; n++ {
		if n%runBudget == 0 {
			// Fairness: a connection whose peer keeps sending lets the
			// other connections' workers and the pollers run between
			// its bursts, rather than at the scheduler's next preemption.
			runtime.Gosched()
		}
		typ, err := c.nextEventMessage(fresh, ec.flags.Load()&flagHangup != 0)
		fresh = false
		if err == errWouldBlock {
			if ec.setState(stateRunning, stateIdle) {
				// A connection that ended while this goroutine ran left
				// its removal to it.
				if ec.flags.Load()&flagClosed != 0 {
					ec.end()
				}
				return
			}
			ec.setState(statePending, stateRunning) // the poller saw more arrive
			fresh = true
			continue
		}
		if err != nil {
			ec.end()
			return
		}
		ec.deliver(typ)
	}
}

// runBudget is how many messages a run delivers before it yields the
// processor.
const runBudget = 16

// runBlocking serves a connection the poller cannot watch, from a goroutine
// of its own.
func (ec *engineConn) runBlocking() {
	c := ec.c
	for {
		typ, _, err := c.reader(context.Background())
		if err != nil {
			ec.end()
			return
		}
		ec.deliver(typ)
	}
}

// deliver hands the message just begun to OnMessage.
func (ec *engineConn) deliver(typ MessageType) {
	if r := ec.rare; r != nil && r.idle != nil {
		r.idle.Reset(ec.e.opts.IdleTimeout)
	}
	ec.flags.Or(flagOnMsg)
	ec.e.opts.OnMessage(ec.c, typ, ec.c.messageReader())
	ec.flags.And(^flagOnMsg)
}

// delivering reports whether OnOpen or OnMessage runs for the connection,
// during which nothing reads it but the message reader and Ping (readPong).
func (ec *engineConn) delivering() bool { return ec.flags.Load()&flagOnMsg != 0 }

// fdClosed is called when the connection's transport in event mode has
// been closed: no call waits for its events any more, and its id may go to
// another connection.
func (ec *engineConn) fdClosed() {
	ec.e.conns.Remove(ec.id)
	if r := ec.rare; r != nil && r.guard != nil {
		r.guard.Release()
	}
}

// connClosed is called by Conn.end (which CloseNow calls), with c.mu held.
// A parked connection is ended here; a running one, or one served by a
// goroutine of its own, by that goroutine, whose read fails now.
func (ec *engineConn) connClosed() {
	f := ec.flags.Or(flagClosed)
	if f&flagEvents != 0 && f&stateMask == stateIdle {
		go ec.end()
	}
}

// end tells OnClose, once, and removes a connection served by a goroutine
// from its engine; one in event mode leaves when its transport is closed
// (fdClosed), since until then a lingering close may still wait for its
// events.
func (ec *engineConn) end() {
	f := ec.flags.Or(flagEnded)
	if f&flagEnded != 0 {
		return
	}
	if r := ec.rare; r != nil && r.idle != nil {
		r.idle.Stop()
	}
	if f&flagEvents == 0 {
		ec.e.conns.Remove(ec.id)
	}
	if ec.e.opts.OnClose != nil {
		ec.e.opts.OnClose(ec.c, ec.c.closedErr())
	}
	// A Server waits for the OnClose of an engine's connections: Conn.end
	// leaves telling it to here.
	if s := ec.c.trackedBy(); s != nil {
		s.connClosed(ec.c)
	}
	ec.e.n.Add(-1)
	ec.e.left()
}

// nextEventMessage starts the next message of an event-mode connection if
// its first frame has arrived, answering the control frames before it; it
// returns errWouldBlock when no frame is complete. fresh says the poller saw
// bytes arrive since the last read, hangup that it saw the peer's end.
func (c *Conn) nextEventMessage(fresh, hangup bool) (MessageType, error) {
	if err := c.readLock.Lock(context.Background(), &c.ended); err != nil {
		return 0, c.lockErr(err)
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
	if err == errWouldBlock {
		c.br.shrink()
		// Parked with part of a frame: the stall watch (stall.go) sees
		// that the peer goes on with it.
		if n := c.br.buffered(); n > 0 {
			c.stallPark(n)
		} else {
			c.stallEnd()
		}
		return 0, err
	}
	if err != nil {
		return 0, err
	}
	return c.rd.typ, nil
}
