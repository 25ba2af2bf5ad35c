package websocket

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server adds graceful shutdown of WebSockets to an http.Server. The
// server's own Shutdown cannot do it: it forgets a connection once Accept
// has taken it over, so the WebSockets of a server that shut down stay
// connected. With a Server, every connection Accept upgrades for the
// http.Server is known, and Shutdown closes them all with StatusGoingAway
// and waits for their handlers:
//
//	srv := &http.Server{Addr: ":8080", Handler: mux}
//	ws := websocket.NewServer(srv)
//	go srv.ListenAndServe()
//	...
//	ws.Shutdown(ctx) // instead of srv.Shutdown(ctx)
//
// Handlers call Accept as usual; nothing else changes. A Server is safe for
// concurrent use.
type Server struct {
	srv *http.Server

	mu      sync.Mutex
	conns   map[*Conn]*serverConn
	closing bool
	idle    chan struct{} // closed once closing and no connection or handler is left
}

// serverConn is what a Server waits for on one connection: the connection
// to end, and the handler that accepted it to return.
type serverConn struct {
	connDone, handlerDone bool
}

// serverKey is the context key under which a Server finds itself in the
// requests of its http.Server.
type serverKey struct{}

// NewServer makes a Server for srv. It must be called before srv starts
// serving, and after srv.BaseContext is set if it is: it wraps BaseContext
// so that Accept finds the Server in every request, and registers with
// RegisterOnShutdown so that even a plain srv.Shutdown closes every
// WebSocket with StatusGoingAway (without waiting for them).
func NewServer(srv *http.Server) *Server {
	s := &Server{srv: srv, conns: make(map[*Conn]*serverConn), idle: make(chan struct{})}
	base := srv.BaseContext
	srv.BaseContext = func(l net.Listener) context.Context {
		ctx := context.Background()
		if base != nil {
			ctx = base(l)
		}
		return context.WithValue(ctx, serverKey{}, s)
	}
	srv.RegisterOnShutdown(s.closeAll)
	return s
}

// Shutdown shuts the http.Server down gracefully (http.Server.Shutdown) and
// at the same time closes every WebSocket it accepted with StatusGoingAway
// (1001), running all their closing handshakes at once. It returns once
// every connection has ended, every handler that accepted one has returned,
// and, for a connection handed to an [Engine], its OnClose has returned. A
// request that reaches Accept from then on is refused with 503 Service
// Unavailable.
//
// When ctx ends first, the connections still open are closed at once
// (without waiting for a close frame on its way, as CloseNow would),
// Shutdown waits at most one more second for their handlers and OnClose,
// and returns an error wrapping ctx's; no client is left connected, though a
// handler or an OnClose blocked on something other than its connection may
// still be running.
func (s *Server) Shutdown(ctx context.Context) error {
	httpDone := make(chan error, 1)
	go func() { httpDone <- s.srv.Shutdown(ctx) }()
	s.closeAll()
	var err error
	select {
	case <-s.idle:
	case <-ctx.Done():
		s.mu.Lock()
		left := make([]*Conn, 0, len(s.conns))
		for c := range s.conns {
			left = append(left, c)
		}
		s.mu.Unlock()
		for _, c := range left {
			c.endSoon()
		}
		err = fmt.Errorf("websocket: Server.Shutdown: %d connections or their handlers still running: %w", len(left), ctx.Err())
		t := time.NewTimer(onCloseWait)
		select {
		case <-s.idle:
		case <-t.C:
		}
		t.Stop()
	}
	if herr := <-httpDone; err == nil {
		err = herr
	}
	return err
}

// closeAll starts the closing handshake, with StatusGoingAway, of every
// connection, and makes Accept refuse new ones.
func (s *Server) closeAll() {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.closing = true
	open := make([]*Conn, 0, len(s.conns))
	for c, sc := range s.conns {
		if !sc.connDone {
			open = append(open, c)
		}
	}
	s.idleIfDoneLocked()
	s.mu.Unlock()
	for _, c := range open {
		go c.Close(StatusGoingAway, "server shutting down")
	}
}

// serverOf returns the Server of the http.Server r came in on, or nil.
func serverOf(r *http.Request) *Server {
	s, _ := r.Context().Value(serverKey{}).(*Server)
	return s
}

// shuttingDown reports whether Accept must refuse: Shutdown has begun.
func (s *Server) shuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// add tracks c, accepted by the handler of r, until c ends and the handler
// returns. A connection accepted while Shutdown begins is closed like the others.
func (s *Server) add(c *Conn, r *http.Request) {
	s.mu.Lock()
	s.conns[c] = &serverConn{}
	closing := s.closing
	s.mu.Unlock()
	c.mu.Lock()
	c.watchersLocked().server = s
	ended := c.ended.Ended() // closed before it was tracked: CloseNow did not see s
	c.mu.Unlock()
	if ended {
		s.connClosed(c)
	}
	context.AfterFunc(r.Context(), func() { s.handlerReturned(c) })
	if closing {
		go c.Close(StatusGoingAway, "server shutting down")
	}
}

// trackedBy returns the Server tracking c for its shutdown, or nil.
func (c *Conn) trackedBy() *Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.rare.Load(); r != nil && r.watchers != nil {
		return r.watchers.server
	}
	return nil
}

// handlerReturned records that the handler that accepted c has returned.
func (s *Server) handlerReturned(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc := s.conns[c]; sc != nil {
		sc.handlerDone = true
		s.forgetIfDoneLocked(c, sc)
	}
}

// connClosed records that c has ended; Conn.end calls it, with c.mu held.
func (s *Server) connClosed(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc := s.conns[c]; sc != nil {
		sc.connDone = true
		s.forgetIfDoneLocked(c, sc)
	}
}

func (s *Server) forgetIfDoneLocked(c *Conn, sc *serverConn) {
	if sc.connDone && sc.handlerDone {
		delete(s.conns, c)
		s.idleIfDoneLocked()
	}
}

// idleIfDoneLocked tells Shutdown when nothing is left to wait for.
func (s *Server) idleIfDoneLocked() {
	if s.closing && len(s.conns) == 0 {
		select {
		case <-s.idle:
		default:
			close(s.idle)
		}
	}
}
