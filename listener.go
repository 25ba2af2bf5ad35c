package websocket

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplexws/websocket/internal/netpoll"
	"github.com/duplexws/websocket/internal/wsconn"
)

// ListenerOptions configures NewListener. The zero value, like a nil
// pointer, gives the defaults each field names.
type ListenerOptions struct {
	// MaxConns bounds the connections the listener holds open at once,
	// each a file descriptor. When zero, it is the process's descriptor
	// limit (RLIMIT_NOFILE, read when NewListener is called) less a tenth,
	// and at least 64, left for everything else the process opens; where
	// the system has no such limit, there is no bound.
	//
	// The last sixteenth of MaxConns (at least 1, at most 256) is kept
	// for refusals: once the others are open, a new connection is answered
	// "503 Service Unavailable" with "Connection: close" by the listener
	// itself and closed within a second, so that a client always hears
	// an answer; once those too are taken, the listener stops accepting,
	// and resumes as soon as a connection closes.
	MaxConns int

	// HandshakeTimeout closes a connection that has not become a
	// WebSocket (its handshake accepted by [Accept]) within that long of
	// being accepted: 10 seconds when zero, never when negative. A
	// connection that carries plain HTTP requests is closed after that
	// long too, between two requests or not; give a listener that also
	// serves pages and downloads a longer timeout or a listener of its
	// own. Over HTTP/2 the TCP connection is claimed by the first
	// WebSocket opened on it when the server's ConnContext is
	// [Listener.ConnContext].
	HandshakeTimeout time.Duration
}

// Defaults of ListenerOptions.
const (
	defaultHandshakeTimeout = 10 * time.Second
	minFDHeadroom           = 64
	maxRefusalReserve       = 256
)

// refusalWait bounds how long the listener spends on a connection it
// refuses: reading its request, then waiting for it to close.
const refusalWait = time.Second

// refusalResponse is what the listener answers a connection it refuses.
var refusalResponse = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 37\r\n\r\n" +
	"503 service unavailable: server full\n")

// Listener is a net.Listener that guards a server against connection
// storms: it holds at most MaxConns connections (the process's descriptor
// limit with headroom, by default), answers the connections beyond with
// 503 and closes them at once rather than letting them wait in the
// kernel's queue or exhaust the process's descriptors, and closes those
// that do not become WebSockets within HandshakeTimeout. Give it to
// [http.Server.Serve] in place of the listener it wraps:
//
//	ln, _ := net.Listen("tcp", ":8080")
//	wl := websocket.NewListener(ln, nil)
//	srv := &http.Server{Handler: mux, ConnContext: wl.ConnContext}
//	srv.Serve(wl)
//
// A connection stays counted until it is closed, by the server, by the
// handler that took it over, or by the [Engine] serving it. Given to
// [Engine.ServeUpgrades] around a *net.TCPListener, it guards the sockets
// the engine accepts itself from the listener inside in the same way. Its
// methods are safe for concurrent use.
type Listener struct {
	net.Listener
	max      int // 0 = no bound
	reserve  int
	timeout  time.Duration
	open     atomic.Int64
	freed    chan struct{} // signaled when a connection closes
	done     chan struct{} // closed by Close
	stopOnce sync.Once
	// shared is the guard that an engine's connections hold once
	// claimed, in place of their own (Engine.ServeUpgrades).
	shared *wsconn.Guard

	refused   atomic.Uint64
	timedOut  atomic.Uint64
	paused    atomic.Uint64
	acceptErr atomic.Uint64
}

// ListenerStats is a snapshot of a Listener's counters.
type ListenerStats struct {
	// Open is the number of connections the listener holds open now,
	// those it is refusing included.
	Open int
	// MaxConns is the bound the listener applies (0: none).
	MaxConns int
	// Refused counts the connections answered 503 because MaxConns were
	// nearly all open.
	Refused uint64
	// HandshakeTimeouts counts the connections closed because they had not
	// become WebSockets within HandshakeTimeout.
	HandshakeTimeouts uint64
	// Paused counts the times the listener stopped accepting, with every
	// connection it may hold open, until one closed.
	Paused uint64
	// AcceptErrors counts the accepts that failed because the process or
	// the system had no descriptor left (EMFILE, ENFILE); the listener
	// waits for a connection to close, or 100 ms, before it tries again.
	AcceptErrors uint64
}

// NewListener wraps ln in a Listener.
func NewListener(ln net.Listener, opts *ListenerOptions) *Listener {
	var o ListenerOptions
	if opts != nil {
		o = *opts
	}
	l := &Listener{Listener: ln, max: o.MaxConns, timeout: o.HandshakeTimeout,
		freed: make(chan struct{}, 1), done: make(chan struct{})}
	if l.max <= 0 {
		l.max = 0
		if n := netpoll.DescriptorLimit(); n > 0 {
			l.max = max(n-max(n/10, minFDHeadroom), 1)
		}
	}
	if l.max > 0 {
		l.reserve = min(max(l.max/16, 1), maxRefusalReserve)
	}
	if l.timeout == 0 {
		l.timeout = defaultHandshakeTimeout
	}
	l.shared = wsconn.NewSharedGuard(l.release)
	return l
}

// Accept waits for and returns the next connection that the listener
// serves; connections it refuses never reach the caller. It waits while
// MaxConns connections are open.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		if err := l.waitRoom(); err != nil {
			return nil, err
		}
		nc, err := l.Listener.Accept()
		if err != nil {
			if err := l.acceptFailed(err); err != nil {
				return nil, err
			}
			continue
		}
		if l.enter() {
			go l.refuse(nc)
			continue
		}
		return wsconn.NewGuard(nc, l.timeout, l.expired, l.release), nil
	}
}

// waitRoom waits while MaxConns connections are open.
func (l *Listener) waitRoom() error {
	for !l.hasRoom() {
		l.paused.Add(1)
		if err := l.waitFreed(0); err != nil {
			return err
		}
	}
	return nil
}

// hasRoom reports whether fewer than MaxConns connections are open.
func (l *Listener) hasRoom() bool { return l.max <= 0 || l.open.Load() < int64(l.max) }

// acceptFailed returns err, what accepting failed with, unless it was for
// want of descriptors: then it waits for a connection to close, or 100 ms,
// and returns nil.
func (l *Listener) acceptFailed(err error) error {
	if !netpoll.DescriptorsExhausted(err) {
		return err
	}
	l.acceptErr.Add(1)
	return l.waitFreed(100 * time.Millisecond)
}

// enter counts a connection accepted, and reports whether it took one of
// the slots kept for refusals: the caller then refuses it (refuse).
func (l *Listener) enter() (refused bool) {
	n := l.open.Add(1)
	if l.max > 0 && n > int64(l.max-l.reserve) {
		l.refused.Add(1)
		return true
	}
	return false
}

// expired counts a connection closed by its handshake timeout.
func (l *Listener) expired() { l.timedOut.Add(1) }

// waitFreed waits until a connection closes, the listener is closed, or
// (when positive) d has passed.
func (l *Listener) waitFreed(d time.Duration) error {
	var after <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		after = t.C
	}
	select {
	case <-l.freed:
	case <-after:
	case <-l.done:
		return net.ErrClosed
	}
	return nil
}

// Close closes the listener; the connections it accepted stay open.
func (l *Listener) Close() error {
	l.stopOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// Stats returns a snapshot of the listener's counters.
func (l *Listener) Stats() ListenerStats {
	return ListenerStats{
		Open:              int(l.open.Load()),
		MaxConns:          l.max,
		Refused:           l.refused.Load(),
		HandshakeTimeouts: l.timedOut.Load(),
		Paused:            l.paused.Load(),
		AcceptErrors:      l.acceptErr.Load(),
	}
}

// ConnContext is for [http.Server.ConnContext]: it lets [Accept] find the
// connection a request came over, so that a WebSocket opened as an HTTP/2
// stream claims its TCP connection from the handshake timeout. (Over
// HTTP/1.1 Accept finds it without.)
func (l *Listener) ConnContext(ctx context.Context, c net.Conn) context.Context {
	return wsconn.ConnContext(ctx, c)
}

// release counts a connection off and wakes an Accept waiting for room.
func (l *Listener) release() {
	l.open.Add(-1)
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

// refuse answers nc with 503 and closes it, within about two seconds: it
// reads the request first (or up to 4 KiB of it), so that closing does not
// reset the connection under the answer; a connection that begins a TLS
// handshake is closed without one.
func (l *Listener) refuse(nc net.Conn) {
	defer l.release()
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(refusalWait))
	var buf [4096]byte
	n := 0
	for n < len(buf) && !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
		k, err := nc.Read(buf[n:])
		n += k
		if err != nil {
			break
		}
	}
	if n == 0 || buf[0] == 0x16 { // nothing, or a TLS ClientHello
		return
	}
	if _, err := nc.Write(refusalResponse); err != nil {
		return
	}
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		nc.SetReadDeadline(time.Now().Add(refusalWait))
		for {
			if _, err := nc.Read(buf[:]); err != nil {
				return
			}
		}
	}
}
