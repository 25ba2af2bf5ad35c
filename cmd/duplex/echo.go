package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/legacy"
)

// messageConn is what the echo needs of a connection; both *websocket.Conn
// and the hixie-76 *legacy.Conn have it.
type messageConn interface {
	Reader(ctx context.Context) (websocket.MessageType, io.Reader, error)
	Write(ctx context.Context, typ websocket.MessageType, p []byte) error
	Writer(ctx context.Context, typ websocket.MessageType) (io.WriteCloser, error)
	Close(code websocket.StatusCode, reason string) error
	CloseNow() error
}

// echoBuffer is the size of the buffers that carry a message from reader to
// writer: a message up to this size goes back whole, as one frame, and a
// longer one is streamed.
const echoBuffer = 64 << 10

// echoBuffers lends those buffers for one message at a time, so an idle
// connection holds none.
var echoBuffers = sync.Pool{New: func() any { b := make([]byte, echoBuffer); return &b }}

// echoStats are the counters of /echo that /metrics shows.
type echoStats struct {
	open     atomic.Int64
	accepted atomic.Uint64
	refused  atomic.Uint64 // over --max-conns or during shutdown
	messages atomic.Uint64
	bytes    atomic.Uint64
}

// echoHandler serves /echo: every message goes back with the same type,
// whole when it fits in a borrowed buffer of 64 KiB, streamed through it
// otherwise, so that a big message is never held whole.
type echoHandler struct {
	opts       *websocket.AcceptOptions
	legacyOpts *legacy.AcceptOptions // nil: hixie-76 is refused
	idle       time.Duration         // close with 1001 after this long without a message; 0 = never
	conns      *connSet
	stats      *echoStats
	log        *slog.Logger
	// engine, when set, serves RFC 6455 connections with no goroutine
	// while they are idle (see newEchoEngine); hixie-76 ones keep theirs.
	// It closes its connections on shutdown itself, and each frees its
	// slot in conns from OnClose: the server keeps nothing of its own per
	// connection it serves.
	engine *websocket.Engine
}

// newEchoEngine makes the engine of /echo: it echoes each message as echo
// does and frees the connection's slot when it ends (OnClose comes once
// for each connection that Serve took, and never for one it refused). The
// idle timeout is the engine's. The engine closes its connections when
// conns shuts down. keepAlive is the TCP keep-alive of the sockets it
// accepts itself (EngineOptions.KeepAlive).
func (h *echoHandler) newEchoEngine(keepAlive time.Duration) error {
	e, err := websocket.NewEngine(&websocket.EngineOptions{
		OnMessage: func(c *websocket.Conn, typ websocket.MessageType, r io.Reader) {
			n, err := echoMessage(context.Background(), c, typ, r)
			if err != nil {
				return
			}
			h.stats.messages.Add(1)
			h.stats.bytes.Add(uint64(n))
		},
		OnClose: func(c *websocket.Conn, err error) {
			h.conns.leave()
			h.stats.open.Add(-1)
			h.log.Debug("echo connection ended", "remote", c.RemoteAddr(), "err", err)
		},
		IdleTimeout: h.idle,
		KeepAlive:   keepAlive,
	})
	if err != nil {
		return err
	}
	h.engine = e
	h.conns.closeGroupOnShutdown(func(ctx context.Context) { e.Shutdown(ctx) })
	return nil
}

func (h *echoHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.conns.enter(r) {
		h.stats.refused.Add(1)
		h.conns.tooBusy(w, h.log, r, "too many connections")
		return
	}
	c, err := h.accept(w, r)
	if err != nil {
		h.conns.leave()
		h.log.Info("handshake failed", "path", r.URL.Path, "remote", r.RemoteAddr, "proto", r.Proto, "err", err)
		return
	}
	h.stats.accepted.Add(1)
	h.stats.open.Add(1)
	h.log.Info("echo connection", "remote", r.RemoteAddr, "proto", r.Proto)
	if wc, ok := c.(*websocket.Conn); ok && h.engine != nil && r.ProtoMajor == 1 {
		// The handler returns; the slot is freed when the connection ends.
		// (An HTTP/2 stream ends with its handler, which keeps serving it.)
		if err := h.engine.Serve(wc); err != nil {
			// Not taken: the engine is shutting down (or the connection
			// has ended), and the connection is still ours to close.
			h.log.Info("engine refused the connection", "remote", r.RemoteAddr, "err", err)
			wc.Close(websocket.StatusGoingAway, "server shutting down")
			h.conns.leave()
			h.stats.open.Add(-1)
		}
		return
	}
	defer h.conns.leave()
	defer h.stats.open.Add(-1)
	defer h.conns.untrack(h.conns.track(func() { c.Close(websocket.StatusGoingAway, "server shutting down") }))
	debug := h.log.Enabled(r.Context(), slog.LevelDebug) // spares building a log record per connection when it would be dropped

	var idle *time.Timer
	if h.idle > 0 {
		idle = time.AfterFunc(h.idle, func() { c.Close(websocket.StatusGoingAway, "idle timeout") })
		defer idle.Stop()
	}
	// The connection ends by Close (peer, idle timer, shutdown), never by
	// the request's context; one that cannot end spares a timer per message.
	err = echo(context.WithoutCancel(r.Context()), c, func(n int64) {
		if idle != nil {
			idle.Reset(h.idle)
		}
		h.stats.messages.Add(1)
		h.stats.bytes.Add(uint64(n))
	})
	if debug {
		h.log.Debug("echo connection ended", "remote", r.RemoteAddr, "proto", r.Proto, "err", err)
	}
}

// echo sends every message of c back to it until reading fails, and returns
// that error. done is called after each message with its size.
func echo(ctx context.Context, c messageConn, done func(n int64)) error {
	for {
		typ, r, err := c.Reader(ctx)
		if err != nil {
			return err
		}
		n, err := echoMessage(ctx, c, typ, r)
		if err != nil {
			return err
		}
		done(n)
	}
}

// echoMessage sends the message r reads back to c with type typ, and
// returns its size: whole with one Write when it fits in a borrowed buffer,
// streamed through that buffer otherwise.
func echoMessage(ctx context.Context, c messageConn, typ websocket.MessageType, r io.Reader) (int64, error) {
	bp := echoBuffers.Get().(*[]byte)
	defer echoBuffers.Put(bp)
	buf := *bp
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err == io.EOF {
			return int64(n), c.Write(ctx, typ, buf[:n])
		}
		if err != nil {
			return 0, dropMessage(c, err)
		}
	}
	w, err := c.Writer(ctx, typ)
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(buf); err != nil {
		return 0, dropMessage(c, err)
	}
	rest, err := io.CopyBuffer(w, r, buf)
	if err != nil {
		return 0, dropMessage(c, err)
	}
	return int64(n) + rest, w.Close()
}

// dropMessage ends a connection whose message could not be echoed: the
// connection has failed (bad UTF-8, too big...), and a message in progress
// cannot be finished.
func dropMessage(c messageConn, err error) error {
	c.CloseNow()
	return err
}

// accept answers the handshake of /echo: hixie-76 when it is asked for and
// allowed, RFC 6455 (and hybi-07/08 with --legacy) otherwise.
func (h *echoHandler) accept(w http.ResponseWriter, r *http.Request) (messageConn, error) {
	if h.legacyOpts != nil && legacy.IsHixie76(r) {
		return legacy.Accept(w, r, h.legacyOpts)
	}
	return websocket.Accept(w, r, h.opts)
}
