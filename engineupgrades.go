package websocket

import (
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/duplexws/websocket/internal/engine"
	"github.com/duplexws/websocket/internal/netpoll"
	"github.com/duplexws/websocket/internal/wsconn"
	"github.com/duplexws/websocket/internal/wshttp"
)

// ServeUpgrades is [ServeUpgrades] with the engine accepting the
// connections itself: where ln is a *net.TCPListener and the engine runs in
// event mode (Linux), each socket is accepted straight onto the engine's
// pollers, outside the runtime's poller, and its first request is read
// there as its bytes arrive, with no goroutine while it waits for them. An
// upgrade goes to srv.Handler on one of the engine's worker goroutines; a
// handler that calls [Accept] and then [Engine.Serve] on this engine hands
// the connection over in place, with no takeover of its socket. Every
// other request goes to srv, as with [ServeUpgrades], over the same
// socket, and a connection that a handler keeps for itself (Accept without
// Serve, or Serve on another engine) is read by its goroutine as usual.
//
// Sockets accepted this way have TCP_NODELAY set and the keep-alive of
// EngineOptions.KeepAlive. srv.ReadHeaderTimeout (else srv.ReadTimeout)
// bounds the wait for a first request, and a peer that closes or resets
// its end before sending one costs nothing further.
//
// ln may also be a [Listener] guard around a *net.TCPListener, or a
// [ReleaseListener] around either: the engine accepts from the TCP
// listener inside, and the guard bounds, refuses and times out the
// connections as its doc says (their handshake timeout is claimed by
// [Accept], and they are counted until closed, wherever they are then
// served), while the memory a burst of handshakes leaves behind is
// released as the ReleaseListener's doc says. Any other listener (TLS), or
// an engine without event mode, is served by [ServeUpgrades] itself.
func (e *Engine) ServeUpgrades(srv *http.Server, ln net.Listener) error {
	inner := ln
	rl, _ := inner.(*ReleaseListener)
	if rl != nil {
		inner = rl.Listener
	}
	wl, _ := inner.(*Listener)
	if wl != nil {
		inner = wl.Listener
	}
	tl, ok := inner.(*net.TCPListener)
	if !ok || !e.loop.EventMode() {
		return wshttp.ServeUpgrades(srv, ln)
	}
	s := wshttp.NewUpgradeServer(srv, ln)
	timeout := s.HeaderTimeout()
	if wl != nil && wl.timeout > 0 && wl.timeout <= timeout {
		timeout = 0 // the guard's handshake timeout comes first
	}
	var delay time.Duration
	for {
		if wl != nil {
			if err := wl.waitRoom(); err != nil {
				return s.Finish(err)
			}
		}
		err := e.loop.AcceptEach(tl, s.Done(), e.opts.KeepAlive, func(ec *engineConn) bool {
			delay = 0
			if rl != nil {
				rl.count()
			}
			if wl != nil && wl.enter() {
				ec.Detach()
				go wl.refuse(ec.Transport())
				return wl.hasRoom()
			}
			p := &pendingUpgrade{s: s, ec: ec}
			p.rare.State = p
			if timeout > 0 {
				p.timer = time.AfterFunc(timeout, p.expire)
			}
			ec.SetRare(&p.rare)
			if wl != nil {
				g := wsconn.NewHeldGuard(wl.expired, wl.release, wl.shared)
				ec.SetGuard(g)
				g.Start(ec.Transport(), wl.timeout)
				return wl.hasRoom()
			}
			return true
		})
		if err == nil {
			continue // paused: the guard's connections are all open
		}
		if wl != nil {
			err = wl.acceptFailed(err)
			if err == nil {
				continue
			}
		}
		if s.Retry(err, &delay) {
			continue
		}
		return s.Finish(err)
	}
}

// pendingUpgrade is what a connection the engine accepted itself holds
// until its first request has arrived.
type pendingUpgrade struct {
	s     *wshttp.UpgradeServer
	ec    *engineConn
	rare  engine.Rare                     // the record's rare part meanwhile, its State p: one allocation for both
	buf   *[wshttp.UpgradeBufferSize]byte // nil until a byte has arrived
	n     int                             // bytes in buf
	timer *time.Timer                     // closes the connection at the header timeout
	over  atomic.Bool                     // the request was served, or the connection closed
}

// expire closes the connection when its request has not arrived in time.
func (p *pendingUpgrade) expire() {
	if p.over.CompareAndSwap(false, true) {
		p.ec.Transport().Close()
	}
}

// finish ends the wait for the request, and reports whether it had not
// ended already (expired).
func (p *pendingUpgrade) finish() bool {
	if !p.over.CompareAndSwap(false, true) {
		return false
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	return true
}

// Upgrade reads what arrived of the first request of a connection the
// engine accepted itself, and serves the request once it has arrived: see
// Engine.ServeUpgrades.
func (h *engineHandler) Upgrade(ec *engineConn) bool {
	p := ec.Rare().State.(*pendingUpgrade)
	nc := ec.Transport()
	rn := nc.(interface{ ReadNow([]byte) (int, error) })
	if p.buf == nil {
		p.buf = p.s.Buffer()
	}
	end, other := -1, false
	for end < 0 && !other && p.n < len(p.buf) {
		m, err := rn.ReadNow(p.buf[p.n:])
		if errors.Is(err, netpoll.ErrEmpty) {
			if p.n == 0 {
				// Nothing yet: the wait holds no buffer.
				p.s.PutBuffer(p.buf)
				p.buf = nil
			}
			return false
		}
		if err != nil || m == 0 {
			// Closed, reset or expired before the request's end.
			p.s.PutBuffer(p.buf)
			p.buf = nil
			if p.finish() {
				nc.Close()
			}
			return true
		}
		p.n += m
		end, other = wshttp.ScanRequest(p.buf[:], p.n, m)
	}
	if !p.finish() {
		p.s.PutBuffer(p.buf) // expired meanwhile: closed
		p.buf = nil
		return true
	}
	ec.SetRare(nil)
	p.s.Serve(nc, p.buf, p.n, end)
	return true
}
