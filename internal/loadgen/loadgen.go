// Package loadgen drives WebSocket load against an echo endpoint for duplex
// bench: many connections, each sending a message and waiting for its echo in
// one goroutine, or, when messages are pipelined or paced, with a writer and a
// reader goroutine; buffers reused for every message, every echo checked
// against what was sent, latencies from send to echo collected in an HDR-like
// Histogram.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplexws/websocket"
)

// Config describes one load run.
type Config struct {
	// URL is the echo endpoint (ws, wss, http or https).
	URL string
	// Conns is the number of connections; 0 means 1.
	Conns int
	// Size is the payload size of every message in bytes; 0 means 64.
	Size int
	// Rate is the number of messages per second each connection sends; 0
	// sends as fast as Pipeline allows.
	Rate float64
	// Pipeline bounds the messages in flight (sent, not yet echoed) per
	// connection; 0 means 1 when Rate is 0, and 4096 when Rate is set.
	Pipeline int
	// Duration is the length of the measured window, after all connections
	// are open; 0 means 10s.
	Duration time.Duration
	// RampUp spreads the opening of the connections over this time; 0 opens
	// them at once, at most 64 handshakes at a time.
	RampUp time.Duration
	// Binary sends binary messages instead of text.
	Binary bool
	// Dial is the template of every connection's options; nil means defaults.
	Dial *websocket.DialOptions
	// Progress, when set, is called every ProgressInterval (0 means 1s) with
	// the counters so far.
	Progress         func(Progress)
	ProgressInterval time.Duration
}

// Progress is a view of a run in progress.
type Progress struct {
	Elapsed  time.Duration // since the start of the run
	Open     int           // connections open now
	Received uint64        // messages echoed so far
	Rate     float64       // messages echoed per second over the last interval
	Errors   uint64        // failed handshakes and connections so far
}

// Latency summarises the send-to-echo times of a run, in microseconds.
type Latency struct {
	Min  float64 `json:"min_us"`
	Mean float64 `json:"mean_us"`
	P50  float64 `json:"p50_us"`
	P99  float64 `json:"p99_us"`
	P999 float64 `json:"p999_us"`
	Max  float64 `json:"max_us"`
}

// Result is the outcome of a run. Counts cover the messages sent in the
// measured window and their echoes, whenever these arrive, so that
// MessagesReceived never exceeds MessagesSent: an echo of a message sent
// before the window opened is not counted.
type Result struct {
	URL               string   `json:"url"`
	Connections       int      `json:"connections"`
	Connected         int      `json:"connected"` // handshakes that succeeded
	MessageSize       int      `json:"message_size"`
	Binary            bool     `json:"binary"`
	Extensions        string   `json:"extensions"`
	DurationSeconds   float64  `json:"duration_seconds"`
	MessagesSent      uint64   `json:"messages_sent"`
	MessagesReceived  uint64   `json:"messages_received"`
	MessagesPerSecond float64  `json:"messages_per_second"`
	BytesPerSecond    float64  `json:"bytes_per_second"`
	Latency           Latency  `json:"latency"`
	Errors            uint64   `json:"errors"`
	ErrorSamples      []string `json:"error_samples,omitempty"`
	CPUSeconds        float64  `json:"cpu_seconds"`
}

// connStats are the counters of one connection, written by its own
// goroutines: the messages sent while the window was open, and their echoes.
type connStats struct {
	sent      atomic.Uint64
	_         [56]byte // keep the writer's and the reader's counters on separate cache lines
	received  atomic.Uint64
	recvBytes atomic.Uint64
}

// histShard is a Histogram shared by some connections: one per connection
// would take 35 KiB each, too much for thousands of them.
type histShard struct {
	mu sync.Mutex
	h  *Histogram
	_  [40]byte // keep shards on separate cache lines
}

func (s *histShard) record(v int64) {
	s.mu.Lock()
	s.h.Record(v)
	s.mu.Unlock()
}

// run is the shared state of one Run.
type run struct {
	cfg       Config
	typ       websocket.MessageType
	start     time.Time
	measuring atomic.Bool
	open      atomic.Int64 // connections open now
	connected atomic.Int64 // handshakes that succeeded
	errors    atomic.Uint64
	stats     []connStats
	hists     []histShard // connection i records in hists[i%len(hists)]; merged at the end

	mu         sync.Mutex
	samples    []string
	extensions string

	notEcho     chan struct{} // closed when a message arrived that its connection did not send
	notEchoOnce sync.Once
}

// Run opens the connections, sends and receives for cfg.Duration, closes
// them with 1000 and returns the result. It stops early, with the result so
// far, when ctx is done. It fails when no connection could be opened, and
// with ErrNotEcho (and no result) as soon as a message arrives that its
// connection did not send.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = withDefaults(cfg)
	r := &run{cfg: cfg, typ: websocket.MessageText, start: time.Now(), notEcho: make(chan struct{}),
		stats: make([]connStats, cfg.Conns), hists: make([]histShard, min(cfg.Conns, 4*runtime.GOMAXPROCS(0)))}
	for i := range r.hists {
		r.hists[i].h = NewHistogram()
	}
	if cfg.Binary {
		r.typ = websocket.MessageBinary
	}
	payloads := makePayloads(cfg.Size)

	stop := make(chan struct{}) // closed at the end of the measured window
	var wg, dialing sync.WaitGroup
	dialSlots := make(chan struct{}, 64)
	for i := range cfg.Conns {
		if cfg.RampUp > 0 {
			at := r.start.Add(cfg.RampUp * time.Duration(i) / time.Duration(cfg.Conns))
			if !sleepUntil(ctx, at) {
				break
			}
		} else {
			select {
			case dialSlots <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
		}
		wg.Add(1)
		dialing.Add(1)
		go func() {
			defer wg.Done()
			r.conn(ctx, i, payloads[i%len(payloads)], stop, func() {
				if cfg.RampUp == 0 {
					<-dialSlots
				}
				dialing.Done()
			})
		}()
	}
	// The window opens once every handshake has ended.
	dialing.Wait()

	progressDone := make(chan struct{})
	if cfg.Progress != nil {
		go r.reportProgress(stop, progressDone)
	} else {
		close(progressDone)
	}

	cpuBefore := CPUTime()
	windowStart := time.Now()
	r.measuring.Store(true)
	timer := time.NewTimer(cfg.Duration)
	select {
	case <-timer.C:
	case <-ctx.Done():
		timer.Stop()
	case <-r.notEcho:
		timer.Stop()
	}
	r.measuring.Store(false)
	window := time.Since(windowStart)
	cpuAfter := CPUTime()
	close(stop)
	wg.Wait()
	<-progressDone
	t := r.totals()
	select {
	case <-r.notEcho:
		return nil, fmt.Errorf("%w: a connection received a message that another one sent, as a chat room or a broadcast does; "+
			"bench measures the time to the echo of each message to its sender alone (duplex serve's /echo, for one)", ErrNotEcho)
	default:
	}

	res := &Result{
		URL: cfg.URL, Connections: cfg.Conns, MessageSize: cfg.Size, Binary: cfg.Binary,
		DurationSeconds:  window.Seconds(),
		MessagesSent:     t.sent,
		MessagesReceived: t.received,
		Errors:           r.errors.Load(),
		CPUSeconds:       (cpuAfter - cpuBefore).Seconds(),
		Extensions:       r.extensions,
		ErrorSamples:     r.samples,
	}
	res.Connected = int(r.connected.Load())
	if s := window.Seconds(); s > 0 {
		res.MessagesPerSecond = float64(res.MessagesReceived) / s
		res.BytesPerSecond = float64(t.recvBytes) / s
	}
	h := NewHistogram()
	for i := range r.hists {
		h.Merge(r.hists[i].h)
	}
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	res.Latency = Latency{Min: us(h.Min()), Mean: h.Mean() / 1e3, P50: us(h.Quantile(0.5)),
		P99: us(h.Quantile(0.99)), P999: us(h.Quantile(0.999)), Max: us(h.Max())}
	if res.Connected == 0 {
		msg := "no connection could be opened"
		if len(r.samples) > 0 {
			msg += ": " + r.samples[0]
		}
		return res, errors.New(msg)
	}
	return res, nil
}

func withDefaults(cfg Config) Config {
	cfg.Conns = max(cfg.Conns, 1)
	if cfg.Size <= 0 {
		cfg.Size = 64
	}
	if cfg.Pipeline <= 0 {
		cfg.Pipeline = 1
		if cfg.Rate > 0 {
			cfg.Pipeline = 4096
		}
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.ProgressInterval <= 0 {
		cfg.ProgressInterval = time.Second
	}
	return cfg
}

// makePayloads returns the two payloads that the connections send in
// turn, even ones the first and odd ones the second, which differ in their
// first byte: an endpoint that relays messages to other clients than their
// sender gives some connection the other payload, and is found out.
func makePayloads(size int) [2][]byte {
	a := makePayload(size)
	b := append([]byte(nil), a...)
	if b[0] == 'a' {
		b[0] = 'b'
	} else {
		b[0] = 'a'
	}
	return [2][]byte{a, b}
}

// makePayload returns size bytes of printable ASCII (valid UTF-8 for text
// messages) that do not compress to nothing.
func makePayload(size int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_"
	p := make([]byte, size)
	x := uint32(2463534242)
	for i := range p {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p[i] = alphabet[x%uint32(len(alphabet))]
	}
	return p
}

func (r *run) fail(err error) {
	r.errors.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	msg := err.Error()
	for _, s := range r.samples {
		if s == msg {
			return
		}
	}
	if len(r.samples) < 5 {
		r.samples = append(r.samples, msg)
	}
}

// conn runs connection i until stop is closed or it fails.
func (r *run) conn(ctx context.Context, i int, payload []byte, stop <-chan struct{}, dialed func()) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, resp, err := websocket.Dial(dctx, r.cfg.URL, r.dialOptions())
	cancel()
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	dialed()
	if err != nil {
		if ctx.Err() == nil {
			r.fail(fmt.Errorf("handshake: %w", err))
		}
		return
	}
	r.connected.Add(1)
	r.open.Add(1)
	defer r.open.Add(-1)
	if i == 0 {
		r.mu.Lock()
		r.extensions = c.Extensions()
		r.mu.Unlock()
	}

	done := make(chan struct{}) // closed when this connection stops reading
	go func() {
		// A connection blocked by a peer that stopped reading or answering
		// must not hold the run.
		<-stop
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			c.CloseNow()
		}
	}()
	st, h := &r.stats[i], &r.hists[i%len(r.hists)]
	if r.cfg.Pipeline == 1 && r.cfg.Rate == 0 {
		r.lockstep(c, st, h, payload, stop, done)
		return
	}
	r.pipelined(ctx, c, st, h, payload, stop, done)
}

// lockstep sends a message and waits for its echo, in one goroutine, until
// stop is closed: with one message in flight a second goroutine would only
// add a hand-off to every message, and make the load generator rather than
// the server the bottleneck.
func (r *run) lockstep(c *websocket.Conn, st *connStats, h *histShard, payload []byte, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	rbuf := make([]byte, 32<<10)
	ctx := context.Background()
	for {
		select {
		case <-stop:
			r.closeConn(c)
			return
		default:
		}
		counted, sentAt := r.measuring.Load(), time.Now()
		if err := c.Write(ctx, r.typ, payload); err != nil {
			r.ioFailed(c, stop, fmt.Errorf("write: %w", err))
			return
		}
		if counted {
			st.sent.Add(1)
		}
		n, echo, err := readEcho(c, rbuf, payload)
		if err != nil {
			r.readFailed(c, stop, err)
			return
		}
		if !echo {
			r.notAnEcho(c)
			return
		}
		if counted {
			r.received(st, h, n, time.Since(sentAt))
		}
	}
}

// pipelined runs a writer that keeps up to the pipeline's depth of messages
// in flight, at the configured rate if any, and a reader that takes their
// echoes, until stop is closed.
func (r *run) pipelined(ctx context.Context, c *websocket.Conn, st *connStats, h *histShard, payload []byte, stop <-chan struct{}, done chan<- struct{}) {
	// inflight holds the messages sent and not yet echoed; the echo keeps
	// their order, so the reader takes them in turn. Its capacity is the
	// pipeline depth: a full channel holds the writer back.
	inflight := make(chan sentMessage, r.cfg.Pipeline)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer close(done)
		r.read(c, st, h, payload, inflight, stop)
	}()
	// Writes end with stop (and the watchdog in conn), not with ctx: a write
	// cut by Ctrl-C is no error, and a context that cannot end costs the
	// core no timer per message.
	werr := r.write(context.WithoutCancel(ctx), c, st, payload, inflight, stop)

	// Give the echoes of the last messages a moment, then close.
	if werr == nil {
		deadline := time.Now().Add(2 * time.Second)
	drain:
		for len(inflight) > 0 && time.Now().Before(deadline) {
			select {
			case <-readerDone:
				break drain
			case <-time.After(time.Millisecond):
			}
		}
		r.closeConn(c)
	}
	<-readerDone
}

// closeConn ends a connection with the closing handshake (1000).
func (r *run) closeConn(c *websocket.Conn) {
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil && !errors.Is(err, websocket.ErrClosed) {
		r.fail(fmt.Errorf("close: %w", err))
	}
}

// ioFailed counts err unless the run is ending, and drops the connection.
func (r *run) ioFailed(c *websocket.Conn, stop <-chan struct{}, err error) {
	select {
	case <-stop:
	default:
		r.fail(err)
	}
	c.CloseNow()
}

// readFailed counts a read that ended with err, unless it is the close the
// run asked for or the server going away.
func (r *run) readFailed(c *websocket.Conn, stop <-chan struct{}, err error) {
	if !errors.Is(err, websocket.ErrClosed) || websocket.CloseStatus(err) > websocket.StatusGoingAway {
		r.ioFailed(c, stop, fmt.Errorf("read: %w", err))
	}
}

// ErrNotEcho is the error of a run whose endpoint sent a connection a
// message that the connection had not sent: it does not echo, and the
// send-to-echo times would measure something else.
var ErrNotEcho = errors.New("the endpoint is not an echo")

// notAnEcho ends the run: its endpoint is not an echo.
func (r *run) notAnEcho(c *websocket.Conn) {
	r.notEchoOnce.Do(func() { close(r.notEcho) })
	c.CloseNow()
}

// readEcho reads the next message through buf, as many times as it takes,
// and returns its length and whether it is sent, byte for byte.
func readEcho(c *websocket.Conn, buf, sent []byte) (n int, echo bool, err error) {
	_, rd, err := c.Reader(context.Background())
	echo = true
	for err == nil {
		var k int
		k, err = rd.Read(buf)
		echo = echo && n+k <= len(sent) && bytes.Equal(buf[:k], sent[n:n+k])
		n += k
	}
	if err == io.EOF {
		return n, echo && n == len(sent), nil
	}
	return n, false, err
}

// sentMessage is a message in flight: when it was sent, since the start of
// the run, and whether it was sent in the measured window.
type sentMessage struct {
	at      time.Duration
	counted bool
}

// received records the echo of a message of n bytes, sent in the measured
// window, that took latency.
func (r *run) received(st *connStats, h *histShard, n int, latency time.Duration) {
	h.record(int64(latency))
	st.received.Add(1)
	st.recvBytes.Add(uint64(n))
}

func (r *run) dialOptions() *websocket.DialOptions {
	if r.cfg.Dial == nil {
		return nil
	}
	o := *r.cfg.Dial
	return &o
}

// write sends payload until stop is closed, at the configured rate if any.
func (r *run) write(ctx context.Context, c *websocket.Conn, st *connStats, payload []byte, inflight chan<- sentMessage, stop <-chan struct{}) error {
	var interval time.Duration
	if r.cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) / r.cfg.Rate)
	}
	next := time.Now()
	var timer *time.Timer
	for n := 0; ; n++ {
		if interval > 0 {
			if d := time.Until(next); d > 0 {
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				select {
				case <-timer.C:
				case <-stop:
					return nil
				}
			}
			next = next.Add(interval)
		}
		m := sentMessage{at: time.Since(r.start), counted: r.measuring.Load()}
		select {
		case inflight <- m:
		case <-stop:
			return nil
		}
		if err := c.Write(ctx, r.typ, payload); err != nil {
			r.ioFailed(c, stop, fmt.Errorf("write: %w", err))
			return err
		}
		if m.counted {
			st.sent.Add(1)
		}
	}
}

// read receives echoes into one reused buffer and records their latency.
func (r *run) read(c *websocket.Conn, st *connStats, h *histShard, payload []byte, inflight <-chan sentMessage, stop <-chan struct{}) {
	buf := make([]byte, 32<<10)
	for {
		n, echo, err := readEcho(c, buf, payload)
		if err != nil {
			r.readFailed(c, stop, err)
			return
		}
		var m sentMessage
		select {
		case m = <-inflight:
		default:
			echo = false
		}
		if !echo {
			r.notAnEcho(c)
			return
		}
		if m.counted {
			r.received(st, h, n, time.Since(r.start)-m.at)
		}
	}
}

type totals struct {
	sent, received, recvBytes uint64
}

func (r *run) totals() totals {
	var t totals
	for i := range r.stats {
		t.sent += r.stats[i].sent.Load()
		t.received += r.stats[i].received.Load()
		t.recvBytes += r.stats[i].recvBytes.Load()
	}
	return t
}

func (r *run) reportProgress(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(r.cfg.ProgressInterval)
	defer tick.Stop()
	last, lastAt := r.totals().received, time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			t := r.totals()
			r.cfg.Progress(Progress{
				Elapsed: now.Sub(r.start), Open: int(r.open.Load()), Received: t.received,
				Rate:   float64(t.received-last) / now.Sub(lastAt).Seconds(),
				Errors: r.errors.Load(),
			})
			last, lastAt = t.received, now
		}
	}
}

func sleepUntil(ctx context.Context, at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
