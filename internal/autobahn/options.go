package autobahn

import (
	"context"
	"net"
	"time"
)

// Options tunes a run of the suite; the zero value runs it as Autobahn does.
type Options struct {
	// Wait is the length of Autobahn's second, the unit of the waits cases
	// make: how long the suite waits for a peer to fail the connection,
	// before sending the next piece of a fail-fast case, and for the
	// closing handshake. 0 means one second; shorter runs faster but may
	// judge a slow peer too early.
	Wait time.Duration
	// CaseTimeout bounds one case, connection included; 0 means 60 seconds.
	CaseTimeout time.Duration
	// MaxFrame is the longest frame the suite reads from the peer; 0 means
	// 64 MiB, enough for the largest message of section 9 in one frame.
	MaxFrame int64
	// Messages caps how many messages each case of sections 12 and 13 sends
	// one after the other (Autobahn sends 1000); 0 means no cap. Every case
	// still runs, on fewer messages.
	Messages int
	// Dial, when set, opens each case's connection for RunClient in place
	// of the suite's own HTTP/1.1 handshake: it offers the extensions in
	// offer and returns the connection frames go over and the server's
	// Sec-WebSocket-Extensions. It lets the suite run over HTTP/2 streams
	// (RFC 8441); the server side serves those by itself.
	Dial func(ctx context.Context, url, offer string) (conn net.Conn, answer string, err error)
}

func (o Options) wait() time.Duration {
	if o.Wait > 0 {
		return o.Wait
	}
	return time.Second
}

func (o Options) caseTimeout() time.Duration {
	if o.CaseTimeout > 0 {
		return o.CaseTimeout
	}
	return 60 * time.Second
}

func (o Options) maxFrame() int64 {
	if o.MaxFrame > 0 {
		return o.MaxFrame
	}
	return 64 << 20
}
