package autobahn

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"
)

// RunClient tests the WebSocket server at url (ws://, an endpoint that
// echoes every message with its type): the suite is the client, dials url
// once for each case, masks its frames and plays the case. It returns one
// result per case, in order; a case whose connection cannot be opened is
// FAILED. A nil opts means the defaults. Cancelling ctx ends the running
// case and skips the rest, which then have no result.
func RunClient(ctx context.Context, url string, cases []Case, opts *Options) []Result {
	var o Options
	if opts != nil {
		o = *opts
	}
	var results []Result
	for _, c := range cases {
		if ctx.Err() != nil {
			break
		}
		results = append(results, runClientCase(ctx, url, c, o))
	}
	return results
}

func runClientCase(ctx context.Context, url string, c Case, o Options) Result {
	start := time.Now()
	hctx, cancel := context.WithTimeout(ctx, o.caseTimeout())
	var h *handshake
	var err error
	if o.Dial != nil {
		var conn net.Conn
		var answer string
		if conn, answer, err = o.Dial(hctx, url, c.Offer); err == nil {
			h = &handshake{conn: conn, br: bufio.NewReaderSize(conn, 64<<10), offer: c.Offer, answer: answer}
		}
	} else {
		h, err = dialHandshake(hctx, url, c.Offer)
	}
	cancel()
	if err != nil {
		return Result{
			ID: c.ID, Desc: c.Desc, Verdict: Failed, CloseCode: -1,
			Reason: fmt.Sprintf("the opening handshake failed: %v", err), Duration: time.Since(start),
		}
	}
	r := newSession(h, true, o).play(ctx, c)
	r.Duration = time.Since(start)
	return r
}
