package engine

import (
	"net"
	"syscall"
	"time"

	"github.com/duplexws/websocket/internal/netpoll"
	"github.com/duplexws/websocket/internal/wsconn"
)

// newPollers starts n pollers that hand their events to the loop.
func (l *Loop[T]) newPollers(n int) ([]*netpoll.Poller, error) {
	ps := make([]*netpoll.Poller, 0, n)
	for range n {
		p, err := netpoll.NewPoller(l.event)
		if err != nil {
			for _, p := range ps {
				p.Close()
			}
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// takeOver moves a connection on a *net.TCPConn to a descriptor of the
// loop's own, watched by one of its pollers, and reports whether it did:
// the socket is duplicated, the duplicate becomes the connection's
// transport (see transport) and the net.TCPConn is closed, which takes the
// socket out of the runtime's poller. Every other connection, and one whose
// takeover fails, is left to a goroutine of its own.
func (l *Loop[T]) takeOver(c *Conn[T], nc net.Conn) bool {
	var guard *wsconn.Guard // a listener's: released when the duplicate closes
	if g, ok := nc.(*wsconn.GuardedTCPConn); ok {
		nc, guard = g.TCPConn, g.G
	}
	from, _ := nc.(*transport[T]) // accepted by another loop (AcceptEach)
	tcp, _ := nc.(*net.TCPConn)
	if (tcp == nil && from == nil) || len(l.pollers) == 0 {
		return false
	}
	// Running from the start: what the handshake left buffered is read by
	// the first run, and events before it only mark it pending.
	c.flags.Or(flagEvents | stateRunning)
	p := l.pollerOf(c)
	var err error
	if from != nil {
		err = p.AttachConn(&c.fd, c.id, &from.fd, from.loop.pollerOf((*Conn[T])(from)))
	} else {
		err = p.Attach(&c.fd, c.id, tcp)
	}
	if err != nil {
		c.flags.And(^(flagEvents | stateMask))
		return false
	}
	if !l.h.UseTransport(c.owner, (*transport[T])(c)) {
		// The connection ended, is failing and draining the peer, or its
		// locks stayed busy: it keeps its net.TCPConn and a goroutine.
		p.Detach(&c.fd)
		c.flags.And(^(flagEvents | stateMask))
		return false
	}
	if from != nil {
		// The guard moves with the socket: the other loop's record
		// leaves it when its descriptor closes.
		if r := from.rare.Load(); r != nil {
			guard = r.guard.Swap(nil)
		}
	}
	if guard != nil {
		c.SetGuard(guard)
	}
	if from != nil {
		from.Close()
	} else {
		tcp.Close()
	}
	return true
}

// pollerOf returns the poller that watches c's socket.
func (l *Loop[T]) pollerOf(c *Conn[T]) *netpoll.Poller {
	return l.pollers[uint32(c.id)%uint32(len(l.pollers))]
}

// transport is a connection seen as its transport in event mode: the
// netpoll.Conn it holds, which leaves the loop when closed. Being the Conn
// itself, it costs the connection no pointer back to it. Besides
// net.Conn, it reads without waiting (ReadNow), reads into a buffer it
// borrows only once bytes are there (ReadBorrowed), and writes a frame's
// header and payload in one call (WriteVec), or what the socket takes of
// them at once (WriteVecNow).
type transport[T any] Conn[T]

func (t *transport[T]) Read(p []byte) (int, error)    { return t.fd.Read(p) }
func (t *transport[T]) Write(p []byte) (int, error)   { return t.fd.Write(p) }
func (t *transport[T]) ReadNow(p []byte) (int, error) { return t.fd.ReadNow(p) }
func (t *transport[T]) ReadBorrowed(size int) (*[]byte, int, error) {
	return t.fd.ReadBorrowed(size)
}
func (t *transport[T]) WriteVec(hdr, p []byte) error { return t.fd.WriteVec(hdr, p) }
func (t *transport[T]) WriteVecNow(hdr, p []byte) (int, error) {
	return t.fd.WriteVecNow(hdr, p)
}
func (t *transport[T]) CloseWrite() error                  { return t.fd.CloseWrite() }
func (t *transport[T]) LocalAddr() net.Addr                { return t.fd.LocalAddr() }
func (t *transport[T]) RemoteAddr() net.Addr               { return t.fd.RemoteAddr() }
func (t *transport[T]) RemoteAddrString() string           { return t.fd.RemoteAddrString() }
func (t *transport[T]) SetDeadline(d time.Time) error      { return t.fd.SetDeadline(d) }
func (t *transport[T]) SetReadDeadline(d time.Time) error  { return t.fd.SetReadDeadline(d) }
func (t *transport[T]) SetWriteDeadline(d time.Time) error { return t.fd.SetWriteDeadline(d) }

// Close closes the connection's descriptor once the calls using it have
// returned; the connection leaves its loop at once.
func (t *transport[T]) Close() error {
	if err := t.fd.Close(); err != nil {
		return err
	}
	(*Conn[T])(t).fdClosed()
	return nil
}

// AcceptEach accepts the connections waiting on ln onto the loop's pollers
// until made returns false (it returns nil), accepting fails or stop is
// closed, and returns why (see netpoll.AcceptEach): each gets a record,
// whose runs read its first request (Handler.Upgrade) until an owner
// adopts it, and which made sees once it is in the loop, before any run
// can start. No goroutine waits for a connection whose request has not
// arrived.
func (l *Loop[T]) AcceptEach(ln *net.TCPListener, stop <-chan struct{}, keepAlive time.Duration, made func(c *Conn[T]) bool) error {
	return netpoll.AcceptEach(ln, stop, keepAlive, func(fd int, remote syscall.Sockaddr) bool {
		c := &Conn[T]{loop: l}
		// Running until made returns: events meanwhile only mark it
		// pending.
		c.flags.Store(flagEvents | flagUpgrade | stateRunning)
		c.fd.InitAccepted(fd, remote)
		l.conns.Add(c) // publishes c to the pollers' events
		if l.pollerOf(c).WatchAccepted(&c.fd, c.id) != nil {
			l.conns.Remove(c.id)
			return true
		}
		more := made(c)
		if c.setState(stateRunning, stateIdle) {
			return more
		}
		// Bytes came while made ran.
		if c.flags.Load()&flagDetached != 0 {
			c.setState(statePending, stateIdle) // its reader is woken without a run
		} else {
			c.setState(statePending, stateRunning)
			l.dispatch(c)
		}
		return more
	})
}

// ClaimGuard claims the listener's guard of the connection (wsconn.Claim),
// which then holds the guard Guard.Claim gives in its place, and reports
// whether the connection has one.
func (t *transport[T]) ClaimGuard() bool {
	r := t.rare.Load()
	if r == nil {
		return false
	}
	g := r.guard.Load()
	if g == nil {
		return false
	}
	if next := g.Claim(); next != nil && next != g {
		r.guard.CompareAndSwap(g, next)
	}
	return true
}

// Pending returns the record of nc when it is the transport of a
// connection the loop accepted itself that no owner serves yet, or nil.
func (l *Loop[T]) Pending(nc net.Conn) *Conn[T] {
	t, ok := nc.(*transport[T])
	if !ok || t.loop != l {
		return nil
	}
	c := (*Conn[T])(t)
	if c.flags.Load()&flagUpgrade == 0 {
		return nil
	}
	return c
}

// Transport returns the connection's transport in event mode.
func (c *Conn[T]) Transport() net.Conn { return (*transport[T])(c) }

// ClosePending closes the connections the loop accepted itself whose
// first request is still awaited or served.
func (l *Loop[T]) ClosePending() {
	for c := range l.conns.Each {
		if c.flags.Load()&(flagUpgrade|flagDetached) == flagUpgrade {
			c.Transport().Close()
		}
	}
}
