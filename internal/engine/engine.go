// Package engine schedules the connections a WebSocket engine serves: it
// parks each connection in an epoll poller while it waits, lends it a
// pooled worker goroutine while it has messages to deliver, and tells its
// owner once it has ended. It knows nothing of the protocol: the owner of
// the connections (Handler) reads their messages and delivers them.
//
// A connection's life here, top to bottom in this file:
//
//  1. Loop.Add gives it an id in the loop's table, which epoll events carry.
//  2. Loop.Start takes its socket over (epoll_linux.go) and runs it once
//     for what arrived before; a connection that cannot be taken over (TLS,
//     an HTTP/2 stream, a system without epoll) gets a goroutine of its own
//     (runBlocking) for its whole life.
//  3. The poller reports the socket readable (event); ready hands the
//     connection to an idle worker (dispatch, worker), or marks the run in
//     progress pending.
//  4. run asks the owner to begin each message whose first frame has
//     arrived (Handler.NextNow) and delivers it (Handler.Deliver), until
//     none has; then the connection parks. A message delivered before its
//     end has arrived counts against the loop's budget (reserve), and
//     waits, parked, while the budget is spent.
//  5. The owner tells the connection's end (Ended, from its close, under
//     its own lock); the goroutine that runs it, or one started for a
//     parked connection, calls Handler.Closed once, after the last
//     delivery; the connection leaves the table when its socket closes.
//
// A connection the loop accepts itself (AcceptEach, epoll_linux.go) starts
// earlier: it is in the table and its poller from its first byte, and its
// runs serve its first request (Handler.Upgrade) until an owner adopts it
// (Adopt, in place of 1 and 2), or it is left to whoever took it.
package engine

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplexws/websocket/internal/netpoll"
	"github.com/duplexws/websocket/internal/wsconn"
)

// Handler is the owner of a loop's connections, of type T: what the loop
// asks of each connection and tells of it.
type Handler[T any] interface {
	// NextNow begins the next message of c if its first frame has
	// arrived, answering the control frames before it, without waiting,
	// and says what it began: NoMessage when no frame is complete. fresh
	// says the poller saw bytes arrive since the last call, hangup that it
	// saw the peer close its end. An error ends the connection's runs.
	NextNow(c *T, fresh, hangup bool) (Begun, error)
	// Next waits for the next message of a connection the loop cannot
	// watch, and begins it.
	Next(c *T) error
	// Holds returns what an unfinished message of c holds while it is
	// delivered (its read buffer), counted against the loop's budget. It
	// is called without the owner's locks, and never changes.
	Holds(c *T) int
	// Deliver hands the message just begun to the application.
	Deliver(c *Conn[T])
	// Closed is called once, after the connection has ended and its last
	// Deliver has returned.
	Closed(c *Conn[T])
	// UseTransport makes t the transport of c in place of its socket's
	// net.TCPConn, or reports false when it cannot (the connection ended,
	// or stayed busy).
	UseTransport(c *T, t net.Conn) bool
	// Upgrade reads the first request of a connection the loop accepted
	// itself, through its Transport, and serves it, reporting true; or
	// reports false, keeping what it read, when the request has not all
	// arrived. Once it reports true the connection is the loop's again
	// only if Adopt was called meanwhile.
	Upgrade(c *Conn[T]) bool
}

// Begun is what Handler.NextNow began.
type Begun uint8

// What Handler.NextNow began.
const (
	NoMessage         Begun = iota // no frame is complete: the connection parks
	WholeMessage                   // a message that has arrived whole
	UnfinishedMessage              // a message whose end has not arrived: it holds Holds bytes while delivered
)

// Loop serves connections of type T for the Handler given to New.
type Loop[T any] struct {
	h       Handler[T]
	pollers []*netpoll.Poller // empty where there is no event mode
	conns   netpoll.Table[Conn[T], *Conn[T]]
	// work hands a connection with bytes to read to an idle worker; spare
	// counts the workers waiting on it (see worker).
	work      chan *Conn[T]
	spare     atomic.Int32
	closeOnce sync.Once

	// The budget of unfinished messages (see reserve): budget bounds
	// unfinished, the bytes held by messages delivered before their end
	// arrived, negative for no bound; held are the connections waiting
	// for it, in order, each with its message begun and not delivered.
	budget     int64
	mu         sync.Mutex // guards unfinished and held
	unfinished int64
	held       []*Conn[T]
}

// New starts a loop with n poller goroutines (none where there is no
// epoll). budget bounds the bytes that messages delivered before their end
// arrived hold at once (see reserve); negative for no bound.
func New[T any](h Handler[T], n int, budget int64) (*Loop[T], error) {
	l := &Loop[T]{h: h, work: make(chan *Conn[T]), budget: budget}
	ps, err := l.newPollers(n)
	if err != nil {
		return nil, err
	}
	l.pollers = ps
	return l, nil
}

// Close stops the pollers, once. The connections they watch are left to
// their owner, which closes them before.
func (l *Loop[T]) Close() error {
	var errs []error
	l.closeOnce.Do(func() {
		for _, p := range l.pollers {
			errs = append(errs, p.Close())
		}
	})
	return errors.Join(errs...)
}

// How long a worker goroutine waits for another connection to serve before
// it exits. Reusing workers spares each burst of messages a new goroutine
// whose stack grows again to what writing a message takes; but a parked
// worker keeps that stack, so only as many of them as there are pollers
// wait WorkerIdle, and the others, which a burst over many connections
// left behind, exit after workerLinger.
const (
	WorkerIdle   = 2 * time.Second
	workerLinger = 20 * time.Millisecond
)

// RunBudget is how many messages a run delivers before it yields the
// processor.
const RunBudget = 16

// Flags of a connection, in one word: the state of its reading, and what
// happened to it.
const (
	stateIdle    uint32 = iota // waiting in the poller, no goroutine
	stateRunning               // a goroutine reads and delivers messages
	statePending               // running, and the poller saw more bytes arrive
	stateMask    uint32 = 3

	flagEvents uint32 = 1 << 2 // the loop's epoll watches the connection's descriptor
	flagClosed uint32 = 1 << 3 // the connection ended (Ended ran)
	flagEnded  uint32 = 1 << 4 // Handler.Closed was called
	flagHangup uint32 = 1 << 5 // the poller saw the peer close or reset its end
	flagOnMsg  uint32 = 1 << 6 // the application runs with the connection: the loop does not read it
	flagHeld   uint32 = 1 << 7 // a message begun waits for the budget (held); the loop does not read the connection
	flagGrant  uint32 = 1 << 8 // the budget was granted to the held message: the next run delivers it first
	// flagUpgrade marks a connection the loop accepted itself
	// (AcceptEach) that no owner serves yet: its runs read its first
	// request (Handler.Upgrade), and Each passes it by.
	flagUpgrade uint32 = 1 << 9
	// flagDetached marks, beside flagUpgrade, a connection whose request
	// was served without the loop being given it (Adopt): its handler or
	// net/http reads it, waiting for the poller, and no run starts.
	flagDetached uint32 = 1 << 10
)

// Conn is the loop's record of one connection.
type Conn[T any] struct {
	fd    netpoll.Conn // the connection's transport in event mode (see transport)
	loop  *Loop[T]
	owner *T
	id    uint64 // in the loop's table, until the connection ends and its transport is closed
	flags atomic.Uint32
	rare  atomic.Pointer[Rare] // nil unless the owner or a guard needs it
}

// Rare is what only some connections have, kept apart so that a Conn stays
// in its size class.
type Rare struct {
	State any         // the owner's: what it keeps for the connection
	Idle  *time.Timer // the owner's: restarted by each delivery, stopped at the end
	// guard is the listener's (SetGuard, takeOver), released when the
	// connection's transport closes; atomic, since ClaimGuard replaces it.
	guard atomic.Pointer[wsconn.Guard]
}

// NewConn returns the loop's record of owner, not yet in the loop.
func (l *Loop[T]) NewConn(owner *T) *Conn[T] { return &Conn[T]{loop: l, owner: owner} }

// TableID is where the connection's id in its loop's table is kept.
func (c *Conn[T]) TableID() *uint64 { return &c.id }

// Owner returns the connection the record is of.
func (c *Conn[T]) Owner() *T { return c.owner }

// Loop returns the loop the connection was made for.
func (c *Conn[T]) Loop() *Loop[T] { return c.loop }

// Rare returns what SetRare stored, or nil.
func (c *Conn[T]) Rare() *Rare { return c.rare.Load() }

// SetRare stores the owner's rare part, before Start; a listener's guard
// that the connection has (SetGuard) stays.
func (c *Conn[T]) SetRare(r *Rare) {
	if old := c.rare.Load(); old != nil {
		if g := old.guard.Load(); g != nil {
			if r == nil {
				r = new(Rare)
			}
			r.guard.Store(g)
		}
	}
	c.rare.Store(r)
}

// SetGuard gives the connection the guard of the listener it came from,
// which is released when its transport closes: AcceptEach's made calls it
// (after SetRare) for a connection the loop accepted itself, takeOver for
// a socket it moved.
func (c *Conn[T]) SetGuard(g *wsconn.Guard) {
	r := c.rare.Load()
	if r == nil {
		r = new(Rare)
		c.rare.Store(r)
	}
	r.guard.Store(g)
}

// Add puts c in the loop: Each yields it from now on.
func (l *Loop[T]) Add(c *Conn[T]) { l.conns.Add(c) }

// Each yields the connections in the loop that an owner serves, without a
// lock.
func (l *Loop[T]) Each(yield func(*Conn[T]) bool) {
	for c := range l.conns.Each {
		if c.flags.Load()&flagUpgrade == 0 && !yield(c) {
			return
		}
	}
}

// EventMode reports whether the loop has pollers: whether it can take
// sockets over and accept its own (AcceptEach).
func (l *Loop[T]) EventMode() bool { return len(l.pollers) > 0 }

// Adopt makes owner the owner of c, a connection the loop accepted itself
// whose request was being served (Pending gave c): its messages are read
// from now on, by the run that served the request once the handler
// returns, or by a new one when that run is over.
func (c *Conn[T]) Adopt(owner *T) {
	c.owner = owner
	for {
		f := c.flags.Load()
		nf := f &^ (flagUpgrade | flagDetached)
		detached := f&flagDetached != 0
		if detached {
			nf = nf&^stateMask | stateRunning
		}
		if c.flags.CompareAndSwap(f, nf) {
			if detached {
				c.loop.dispatch(c)
			}
			return
		}
	}
}

// Detach leaves c, a connection the loop accepted itself, to a goroutine
// that reads it through its transport (Transport): no run reads its
// request. AcceptEach's made calls it.
func (c *Conn[T]) Detach() { c.flags.Or(flagDetached) }

// Len returns the number of connections in the loop.
func (l *Loop[T]) Len() int { return l.conns.Len() }

// Start begins serving c, whose transport is nc: its first run reads what
// the handshake left buffered, and what arrived before the poller watched
// the descriptor.
func (l *Loop[T]) Start(c *Conn[T], nc net.Conn) {
	if l.takeOver(c, nc) {
		l.dispatch(c)
	} else {
		go c.runBlocking()
	}
}

// Closed reports whether the connection has ended.
func (c *Conn[T]) Closed() bool { return c.flags.Load()&flagClosed != 0 }

// Done reports whether Handler.Closed was called for the connection.
func (c *Conn[T]) Done() bool { return c.flags.Load()&flagEnded != 0 }

// Delivering reports whether the application runs with the connection
// (Deliver, or what the owner marked with SetDelivering), during which the
// loop does not read it.
func (c *Conn[T]) Delivering() bool { return c.flags.Load()&flagOnMsg != 0 }

// SetDelivering marks the application running with the connection outside
// Deliver (the owner's OnOpen), or no longer.
func (c *Conn[T]) SetDelivering(on bool) {
	if on {
		c.flags.Or(flagOnMsg)
	} else {
		c.flags.And(^flagOnMsg)
	}
}

// event hands what a poller reported for connection id to it, if it is
// still there: a waiting read or write is woken, and bytes to read start a
// run.
func (l *Loop[T]) event(id uint64, ev netpoll.Events) {
	c := l.conns.Get(id)
	if c == nil {
		return // the connection has gone; its slot may be another's
	}
	c.fd.Notify(ev)
	if !ev.Readable() {
		return // writable only
	}
	// A peer that closed or reset its end is read until the socket says
	// so: a short read may leave its end unseen, and no event will come
	// again.
	if ev.Hangup() {
		c.flags.Or(flagHangup)
	}
	c.ready()
}

// ready starts a goroutine for the connection, or tells the running one
// to read again before it parks.
func (c *Conn[T]) ready() {
	for {
		f := c.flags.Load()
		if f&(flagEvents|flagEnded|flagHeld|flagDetached) != flagEvents {
			return // a goroutine serves it, it waits for the budget, it has ended, or it is not the loop's
		}
		switch f & stateMask {
		case stateIdle:
			if c.setState(stateIdle, stateRunning) {
				c.loop.dispatch(c)
				return
			}
		case stateRunning:
			if c.setState(stateRunning, statePending) {
				return
			}
		default:
			return
		}
	}
}

// setState moves the connection's state from one to another, keeping its
// other flags; it fails when the state is not from.
func (c *Conn[T]) setState(from, to uint32) bool {
	for {
		f := c.flags.Load()
		if f&stateMask != from {
			return false
		}
		if c.flags.CompareAndSwap(f, f&^stateMask|to) {
			return true
		}
	}
}

// dispatch runs c on an idle worker, or on a new one.
func (l *Loop[T]) dispatch(c *Conn[T]) {
	select {
	case l.work <- c:
	default:
		go l.worker(c)
	}
}

// worker serves c, then the connections it is handed, until none comes
// for WorkerIdle (workerLinger when as many others as there are pollers
// wait already).
func (l *Loop[T]) worker(c *Conn[T]) {
	var idle *time.Timer
	for {
		c.run()
		wait := WorkerIdle
		if int(l.spare.Add(1)) > max(len(l.pollers), 1) {
			wait = workerLinger
		}
		if idle == nil {
			idle = time.NewTimer(wait)
		} else {
			idle.Reset(wait)
		}
		select {
		case c = <-l.work:
			l.spare.Add(-1)
		case <-idle.C:
			l.spare.Add(-1)
			return
		}
	}
}

// run delivers the messages that have arrived, then parks the connection
// in its poller.
func (c *Conn[T]) run() {
	if c.flags.Load()&flagUpgrade != 0 && !c.runUpgrade() {
		return
	}
	h := c.loop.h
	fresh := true
	for n := 1; ; n++ {
		if n%RunBudget == 0 {
			// Fairness: a connection whose peer keeps sending lets the
			// other connections' workers and the pollers run between
			// its bursts, rather than at the scheduler's next preemption.
			runtime.Gosched()
		}
		if c.flags.Load()&flagGrant != 0 {
			// The message held for the budget (reserve) is delivered
			// first.
			c.flags.And(^flagGrant)
			c.deliverUnfinished(int64(h.Holds(c.owner)))
			continue
		}
		begun, err := h.NextNow(c.owner, fresh, c.flags.Load()&flagHangup != 0)
		fresh = false
		switch {
		case err != nil:
			c.end()
			return
		case begun == WholeMessage:
			c.deliver()
		case begun == UnfinishedMessage:
			if !c.loop.reserve(c) {
				if c.parkHeld() {
					return
				}
				continue // granted meanwhile: delivered first, above
			}
			c.deliverUnfinished(int64(h.Holds(c.owner)))
		case c.setState(stateRunning, stateIdle):
			// A connection that ended while this goroutine ran left its
			// end to it.
			if c.Closed() {
				c.end()
			}
			return
		default:
			c.setState(statePending, stateRunning) // the poller saw more arrive
			fresh = true
		}
	}
}

// runUpgrade serves the first request of a connection the loop accepted
// itself, and reports whether the run goes on to read its messages (it was
// adopted). A request not all arrived parks the connection until more
// does; a request served without Adopt leaves the connection detached.
func (c *Conn[T]) runUpgrade() bool {
	for !c.loop.h.Upgrade(c) {
		if c.setState(stateRunning, stateIdle) {
			return false
		}
		c.setState(statePending, stateRunning) // more arrived meanwhile
	}
	for {
		f := c.flags.Load()
		if f&flagUpgrade == 0 {
			return true // adopted while the handler ran
		}
		if c.flags.CompareAndSwap(f, f&^stateMask|stateIdle|flagDetached) {
			return false
		}
	}
}

// deliverUnfinished delivers a message whose end has not arrived, for
// which the loop's budget holds n bytes until it has been delivered.
func (c *Conn[T]) deliverUnfinished(n int64) {
	c.deliver()
	c.loop.release(n)
}

// parkHeld parks a connection whose message waits for the budget, with no
// goroutine, and reports true; or reports false when the budget was
// granted meanwhile, and the run goes on to deliver it.
func (c *Conn[T]) parkHeld() bool {
	for {
		f := c.flags.Load()
		if f&flagGrant != 0 {
			return false
		}
		if c.flags.CompareAndSwap(f, f&^stateMask|stateIdle) {
			if c.Closed() {
				c.end()
			}
			return true
		}
	}
}

// reserve counts the bytes of a message about to be delivered before its
// end has arrived (Handler.Holds) against the loop's budget, and
// reports whether it did. A message that would take the bytes held past
// the budget, or that comes while others wait, is held: its connection
// waits, parked, with the part of the message it has read and no
// goroutine, and nothing reads its socket, so that the peer's TCP window
// fills and the peer waits; release grants the held messages, in order, as
// delivered ones end. A message larger than the budget goes alone.
func (l *Loop[T]) reserve(c *Conn[T]) bool {
	if l.budget < 0 {
		return true
	}
	n := int64(l.h.Holds(c.owner))
	l.mu.Lock()
	if len(l.held) == 0 && (l.unfinished == 0 || l.unfinished+n <= l.budget) {
		// Nothing waits and the message fits: no queue to go through,
		// and nothing allocated for one.
		l.unfinished += n
		l.mu.Unlock()
		return true
	}
	c.flags.Or(flagHeld)
	l.held = append(l.held, c)
	granted := l.grantLocked()
	l.mu.Unlock()
	mine := false
	for _, g := range granted {
		if g == c {
			c.flags.And(^flagHeld)
			mine = true
		} else {
			g.grant()
		}
	}
	return mine
}

// release gives back the n bytes a message held once it was delivered,
// and grants the held messages that now fit.
func (l *Loop[T]) release(n int64) {
	if l.budget < 0 {
		return
	}
	l.mu.Lock()
	l.unfinished -= n
	granted := l.grantLocked()
	l.mu.Unlock()
	for _, c := range granted {
		c.grant()
	}
}

// grantLocked takes the held messages that fit the budget off the front of
// the queue, counting their bytes, and returns their connections; those
// that ended on the way are dropped, as their end is what they wait for.
// The caller holds mu.
func (l *Loop[T]) grantLocked() (granted []*Conn[T]) {
	for len(l.held) > 0 {
		c := l.held[0]
		closed := c.Closed()
		n := int64(l.h.Holds(c.owner))
		if !closed && l.unfinished > 0 && l.unfinished+n > l.budget {
			break
		}
		l.held[0] = nil
		l.held = l.held[1:]
		if !closed {
			l.unfinished += n
			granted = append(granted, c)
		}
	}
	if len(l.held) == 0 {
		l.held = nil
	}
	return granted
}

// grant lets a held message be delivered: a parked connection is run, and
// a run still parking it goes on (parkHeld).
func (c *Conn[T]) grant() {
	for {
		f := c.flags.Load()
		nf := f&^flagHeld | flagGrant
		idle := f&stateMask == stateIdle
		if idle {
			nf = nf&^stateMask | stateRunning
		}
		if c.flags.CompareAndSwap(f, nf) {
			if idle {
				c.loop.dispatch(c)
			}
			return
		}
	}
}

// runBlocking serves a connection the poller cannot watch, from a goroutine
// of its own.
func (c *Conn[T]) runBlocking() {
	for {
		if err := c.loop.h.Next(c.owner); err != nil {
			c.end()
			return
		}
		c.deliver()
	}
}

// deliver hands the message just begun to the owner's application.
func (c *Conn[T]) deliver() {
	c.flags.Or(flagOnMsg)
	c.loop.h.Deliver(c)
	c.flags.And(^flagOnMsg)
}

// Ended is told by the owner, once, when the connection has ended (under
// the owner's lock, so it must not block). A parked connection is ended
// here; a running one, or one served by a goroutine of its own, by that
// goroutine, whose read fails now.
func (c *Conn[T]) Ended() {
	f := c.flags.Or(flagClosed)
	if f&flagEvents != 0 && f&stateMask == stateIdle {
		go c.end()
	}
}

// end tells the owner, once, and takes a connection served by a goroutine
// out of the loop; one in event mode leaves when its transport is closed
// (fdClosed), since until then a lingering close may still wait for its
// events.
func (c *Conn[T]) end() {
	f := c.flags.Or(flagEnded)
	if f&flagEnded != 0 {
		return
	}
	if f&flagEvents == 0 {
		c.loop.conns.Remove(c.id)
	}
	c.loop.h.Closed(c)
}

// fdClosed is called when the connection's transport in event mode has
// been closed: no call waits for its events any more, and its id may go to
// another connection.
func (c *Conn[T]) fdClosed() {
	c.loop.conns.Remove(c.id)
	if r := c.rare.Load(); r != nil {
		if g := r.guard.Load(); g != nil {
			g.Release()
		}
	}
}
