package hub

import (
	"net"
	"sync"
	"time"
)

// slowLogPerSecond is how many lines about disconnected slow subscribers
// a hub logs per second at most; the others are counted, and the next line
// says how many were left out.
const slowLogPerSecond = 10

// slowLog rate-limits a hub's lines about slow subscribers, so that a
// wave of them (a stalled network, a broadcast to thousands of stuck
// clients) costs a few lines a second rather than one per subscriber.
type slowLog struct {
	mu         sync.Mutex
	window     time.Time // start of the current second
	lines      int       // lines logged in it
	suppressed int       // lines left out since the last one logged
}

// allow reports whether a line may be logged now, and how many were left
// out before it.
func (l *slowLog) allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= time.Second {
		l.window, l.lines = now, 0
	}
	if l.lines >= slowLogPerSecond {
		l.suppressed++
		return false, 0
	}
	l.lines++
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}

// logSlow logs, one line each within the rate limit, that s was
// disconnected as a slow consumer, with its peer's address when its
// connection has one.
func (h *Hub) logSlow(s *Subscriber, reason string) {
	ok, suppressed := h.slowLog.allow(time.Now())
	if !ok {
		return
	}
	args := []any{"reason", reason, "code", int(h.code)}
	if a, ok := s.conn.(interface{ RemoteAddr() net.Addr }); ok {
		args = append(args, "remote", a.RemoteAddr().String())
	}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	h.log.Warn("hub: disconnected a slow subscriber", args...)
}
