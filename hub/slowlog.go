package hub

import (
	"net"
	"time"
)

// slowLogPerSecond is how many lines about disconnected slow subscribers
// a hub logs per second at most; the others are counted, and the next line
// says how many were left out.
const slowLogPerSecond = 10

// logSlow logs, one line each within the rate limit, that s was
// disconnected as a slow consumer, with its peer's address when its
// connection has one.
func (h *Hub) logSlow(s *Subscriber, reason string) {
	ok, suppressed := h.slowLog.Allow(time.Now())
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
