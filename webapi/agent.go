package webapi

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultMaxConnections is the cap on connections an Agent applies when its
// MaxConnections is 0: 200, what browsers allow a page.
const DefaultMaxConnections = 200

// DefaultHandshakeTimeout bounds an opening handshake when an Agent's
// HandshakeTimeout is 0.
const DefaultHandshakeTimeout = 30 * time.Second

// ErrTooManyConnections is returned (wrapped) by New when the Agent already
// has MaxConnections WebSockets that are not yet CLOSED.
var ErrTooManyConnections = errors.New("webapi: too many WebSocket connections")

// An Agent creates WebSockets and applies the limits a browser applies to
// the WebSockets of a page: a cap on connections, and the rule of RFC 6455
// §4.1 that at most one connection to a given host and port is CONNECTING at
// a time, the others waiting their turn in the order they were created.
//
// The zero value is ready to use with the defaults. An Agent must not be
// copied after its first use; its methods are safe for concurrent use.
type Agent struct {
	// MaxConnections caps the WebSockets of this Agent that are not CLOSED;
	// beyond it New returns ErrTooManyConnections. A WebSocket leaves the
	// count when its connection has closed, before its close event is
	// delivered. 0 means DefaultMaxConnections; a negative value means no cap.
	MaxConnections int

	// HandshakeTimeout bounds the opening handshake, counted from when the
	// connection's turn for its host comes. A handshake that runs out fails
	// the connection (an error event, then a close event with code 1006).
	// 0 means DefaultHandshakeTimeout; a negative value means no bound.
	HandshakeTimeout time.Duration

	mu    sync.Mutex
	open  int                // WebSockets not yet closed
	lines map[string][]*turn // by host:port: the CONNECTING socket, then those waiting
}

// turn is one WebSocket's place in the line for its host:port. The first
// turn of a line is the one CONNECTING; ready is closed when a turn becomes
// the first.
type turn struct {
	hostPort string
	ready    chan struct{}
}

// defaultAgent is the Agent behind the package-level New. It is the one piece
// of process-wide state in this package, on purpose: the connection cap and
// the one-handshake-per-host rule of a browser hold for a whole page, and New
// gives a Go process the same.
var defaultAgent Agent

// New creates a WebSocket with the process-wide default Agent; see
// Agent.New. Its cap of 200 connections and its one-handshake-per-host rule
// count every WebSocket that New made in this process. Use an Agent of your
// own for separate limits.
func New(url string, protocols ...string) (*WebSocket, error) {
	return defaultAgent.New(url, protocols...)
}

func (a *Agent) maxConnections() int {
	if a.MaxConnections == 0 {
		return DefaultMaxConnections
	}
	return a.MaxConnections
}

func (a *Agent) handshakeTimeout() time.Duration {
	if a.HandshakeTimeout == 0 {
		return DefaultHandshakeTimeout
	}
	return a.HandshakeTimeout
}

// reserve counts one more WebSocket, or fails when the cap is reached.
func (a *Agent) reserve() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if limit := a.maxConnections(); limit >= 0 && a.open >= limit {
		return fmt.Errorf("%w: %d are open, the cap set by Agent.MaxConnections; close one, or use an Agent with a higher cap", ErrTooManyConnections, a.open)
	}
	a.open++
	return nil
}

// release uncounts a WebSocket whose connection has closed.
func (a *Agent) release() {
	a.mu.Lock()
	a.open--
	a.mu.Unlock()
}

// queue puts a WebSocket in the line for hostPort (RFC 6455 §4.1). It is
// called by New itself, so that the line follows the order of the calls.
func (a *Agent) queue(hostPort string) *turn {
	t := &turn{hostPort: hostPort, ready: make(chan struct{})}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lines == nil {
		a.lines = make(map[string][]*turn)
	}
	line := a.lines[hostPort]
	if len(line) == 0 {
		close(t.ready)
	}
	a.lines[hostPort] = append(line, t)
	return t
}

// leave takes t out of its line: its handshake is over, or it gave up
// waiting. When t was CONNECTING, the next in line gets its turn.
func (a *Agent) leave(t *turn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	line := a.lines[t.hostPort]
	for i, u := range line {
		if u != t {
			continue
		}
		line = append(line[:i], line[i+1:]...)
		if i == 0 && len(line) > 0 {
			close(line[0].ready)
		}
		break
	}
	if len(line) == 0 {
		delete(a.lines, t.hostPort)
		return
	}
	a.lines[t.hostPort] = line
}
