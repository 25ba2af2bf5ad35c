package wsconn

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Guard is a listener's hold on one connection it accepted
// (websocket.Listener): it counts the connection until it closes, and
// closes it when no WebSocket handshake claims it in time. The connection
// is handed out wrapped, as a *GuardedTCPConn or a *GuardedConn, whose
// Close releases the guard; an engine that takes the TCP socket over
// releases it when it closes the socket's duplicate.
type Guard struct {
	// timer is the handshake timeout: nil without, and once claimed or
	// released, so that a claimed connection's guard, which an engine
	// keeps for the connection's life, no longer holds the timer nor,
	// through it, the net.TCPConn the engine closed.
	timer    atomic.Pointer[time.Timer]
	claimed  atomic.Bool
	once     sync.Once
	onExpire func()
	onFree   func()
	// then, for a guard that a connection holds itself (NewHeldGuard),
	// is the listener's one guard that stands for every claimed
	// connection: once claimed, the connection holds it instead, and
	// this one is garbage.
	then *Guard
	// shared marks such a guard: each Release calls onFree.
	shared bool
}

// NewGuard guards nc: after timeout (none when not positive) unclaimed,
// nc is closed and onExpire called; onFree is called once when the
// connection is released. It returns nc wrapped.
func NewGuard(nc net.Conn, timeout time.Duration, onExpire, onFree func()) net.Conn {
	g := &Guard{onExpire: onExpire, onFree: onFree}
	var wrapped net.Conn
	if tcp, ok := nc.(*net.TCPConn); ok {
		wrapped = &GuardedTCPConn{TCPConn: tcp, G: g}
	} else {
		wrapped = &GuardedConn{Conn: nc, G: g}
	}
	g.Start(wrapped, timeout)
	return wrapped
}

// NewHeldGuard returns the guard of a connection that holds it itself, as
// a connection an engine accepted does: its ClaimGuard method claims it
// (Claim), and it calls Release on the guard it holds when it closes.
// Start arms its timeout. Once claimed, the connection holds then instead
// (see NewSharedGuard).
func NewHeldGuard(onExpire, onFree func(), then *Guard) *Guard {
	return &Guard{onExpire: onExpire, onFree: onFree, then: then}
}

// NewSharedGuard returns the guard that every claimed connection of a
// listener holding its guard itself holds in place of its own: already
// claimed, and calling onFree at each Release, which each connection
// makes once, as it closes.
func NewSharedGuard(onFree func()) *Guard {
	g := &Guard{onFree: onFree, shared: true}
	g.claimed.Store(true)
	return g
}

// Start arms the handshake timeout: after timeout (none when not
// positive) unclaimed, c is closed and onExpire called.
func (g *Guard) Start(c io.Closer, timeout time.Duration) {
	if timeout > 0 {
		g.timer.Store(time.AfterFunc(timeout, func() {
			if g.claimed.CompareAndSwap(false, true) {
				g.onExpire()
				c.Close()
			}
		}))
	}
}

// Release counts the connection off its listener, once (a shared guard's:
// each time).
func (g *Guard) Release() {
	if g.shared {
		g.onFree()
		return
	}
	g.once.Do(func() {
		if t := g.timer.Swap(nil); t != nil {
			t.Stop()
		}
		g.onFree()
	})
}

// Claim stops the handshake timeout, and returns the guard that the
// connection holds from now on: the shared one of NewHeldGuard, or g; nil
// when the guard was claimed already, or has expired.
func (g *Guard) Claim() *Guard {
	if !g.claimed.CompareAndSwap(false, true) {
		return nil
	}
	if t := g.timer.Swap(nil); t != nil {
		t.Stop()
	}
	if g.then != nil {
		return g.then
	}
	return g
}

// GuardedTCPConn is a TCP connection a listener guards.
type GuardedTCPConn struct {
	*net.TCPConn
	G *Guard
}

// Close closes the connection and releases its guard.
func (c *GuardedTCPConn) Close() error {
	err := c.TCPConn.Close()
	c.G.Release()
	return err
}

// GuardedConn is a connection other than TCP that a listener guards.
type GuardedConn struct {
	net.Conn
	G *Guard
}

// Close closes the connection and releases its guard.
func (c *GuardedConn) Close() error {
	err := c.Conn.Close()
	c.G.Release()
	return err
}

// connKey is the context key under which ConnContext stores a connection.
type connKey struct{}

// ConnContext returns ctx holding c, the connection a request comes over,
// for Claim (http.Server.ConnContext).
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// Claim tells the listener that guards nc, or the connection ctx holds
// (see ConnContext), that it now carries a WebSocket: the handshake
// timeout no longer applies. Connections no listener guards are left
// alone.
func Claim(nc net.Conn, ctx context.Context) {
	if claimOf(nc) {
		return
	}
	if c, ok := ctx.Value(connKey{}).(net.Conn); ok {
		claimOf(c)
	}
}

// claimOf claims the guard of nc, seen through TLS, and reports whether nc
// has one.
func claimOf(nc net.Conn) bool {
	if tc, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = tc.NetConn()
	}
	switch c := nc.(type) {
	case *GuardedTCPConn:
		c.G.Claim()
		return true
	case *GuardedConn:
		c.G.Claim()
		return true
	case interface{ ClaimGuard() bool }: // a connection holding its guard
		return c.ClaimGuard()
	}
	return false
}
