package websocket

import (
	"context"
	"net"
	"time"

	"github.com/duplexws/websocket/internal/netpoll"
	"github.com/duplexws/websocket/internal/wsconn"
)

// newPollers starts n pollers that hand their events to e.
func newPollers(e *Engine, n int) ([]*netpoll.Poller, error) {
	ps := make([]*netpoll.Poller, 0, n)
	for range n {
		p, err := netpoll.NewPoller(e.event)
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

// event hands what a poller reported for connection id to it, if it is
// still there: a waiting read or write is woken, and bytes to read start a
// run.
func (e *Engine) event(id uint64, ev netpoll.Events) {
	ec := e.conns.Get(id)
	if ec == nil {
		return // the connection has gone; its slot may be another's
	}
	ec.fd.Notify(ev)
	if !ev.Readable() {
		return // writable only
	}
	// A peer that closed or reset its end is read until the socket says
	// so: a short read may leave its end unseen, and no event will come
	// again.
	if ev.Hangup() {
		ec.flags.Or(flagHangup)
	}
	ec.ready()
}

// takeOver moves a connection on a *net.TCPConn to a descriptor of the
// engine's own, watched by one of its pollers, and reports whether it did:
// the socket is duplicated, the duplicate becomes the Conn's transport (an
// fdTransport) and the net.TCPConn is closed, which takes the socket out of
// the runtime's poller. Every other connection, and one whose takeover
// fails, is left to a goroutine of its own.
func (e *Engine) takeOver(ec *engineConn) bool {
	nc := ec.c.br.nc
	var guard *wsconn.Guard // a Listener's: released when the duplicate closes
	if g, ok := nc.(*wsconn.GuardedTCPConn); ok {
		nc, guard = g.TCPConn, g.G
	}
	tcp, ok := nc.(*net.TCPConn)
	if !ok || len(e.pollers) == 0 {
		return false
	}
	// Running from the start: what the handshake left buffered is read by
	// the first run, and events before it only mark it pending.
	ec.flags.Or(flagEvents | stateRunning)
	p := e.pollers[uint32(ec.id)%uint32(len(e.pollers))]
	if p.Attach(&ec.fd, ec.id, tcp) != nil {
		ec.flags.And(^(flagEvents | stateMask))
		return false
	}
	if !ec.c.useTransport((*fdTransport)(ec)) {
		// The connection ended, is failing and draining the peer, or its
		// locks stayed busy: it keeps its net.TCPConn and a goroutine.
		p.Detach(&ec.fd)
		ec.flags.And(^(flagEvents | stateMask))
		return false
	}
	if guard != nil {
		ec.c.mu.Lock() // State reads rare under c.mu
		if ec.rare == nil {
			ec.rare = &engineRare{}
		}
		ec.rare.guard = guard
		ec.c.mu.Unlock()
	}
	tcp.Close()
	return true
}

// fdTransport is an engine connection seen as its transport in event mode:
// the netpoll.Conn it holds, which leaves the engine when closed. Being the
// engineConn itself, it costs the connection no pointer back to it.
type fdTransport engineConn

func (t *fdTransport) Read(p []byte) (int, error)         { return t.fd.Read(p) }
func (t *fdTransport) Write(p []byte) (int, error)        { return t.fd.Write(p) }
func (t *fdTransport) ReadNow(p []byte) (int, error)      { return t.fd.ReadNow(p) }
func (t *fdTransport) WriteVec(hdr, p []byte) error       { return t.fd.WriteVec(hdr, p) }
func (t *fdTransport) CloseWrite() error                  { return t.fd.CloseWrite() }
func (t *fdTransport) LocalAddr() net.Addr                { return t.fd.LocalAddr() }
func (t *fdTransport) RemoteAddr() net.Addr               { return t.fd.RemoteAddr() }
func (t *fdTransport) SetDeadline(d time.Time) error      { return t.fd.SetDeadline(d) }
func (t *fdTransport) SetReadDeadline(d time.Time) error  { return t.fd.SetReadDeadline(d) }
func (t *fdTransport) SetWriteDeadline(d time.Time) error { return t.fd.SetWriteDeadline(d) }

// Close closes the connection's descriptor once the calls using it have
// returned; the connection leaves its engine at once.
func (t *fdTransport) Close() error {
	if err := t.fd.Close(); err != nil {
		return err
	}
	(*engineConn)(t).fdClosed()
	return nil
}

// useTransport makes f the connection's transport in place of the one it
// was made with, under every lock that guards it, so that a read, a write
// or a deadline never sees half of each; the bytes the reader buffered stay.
// It waits at most the close timeout for a frame being written. It reports
// false, changing nothing, when the connection has ended or is failing (a
// lingering close reads the old transport with no lock held), or when its
// locks stayed busy.
func (c *Conn) useTransport(f *fdTransport) bool {
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
	c.br.nc = f
	c.br.sys = nil
	c.readWatch.Replace(f)
	c.writeWatch.Replace(f)
	return true
}
