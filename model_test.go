package websocket

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The model test drives a connection pair, in every mode, with random
// sequences of the public API made from several goroutines at both ends,
// and checks after each sequence what must hold whatever the interleaving:
// every call returned within a bound, every message arrived whole, once
// and in the order of its writer, and, when a sequence closes cleanly,
// every message written arrived and the peer saw the close code sent.
//
// A failure prints its mode and seed; -model.seed=N runs that sequence
// alone, and a seed that once failed belongs in modelRegressions.
var (
	modelSeed = flag.Uint64("model.seed", 0, "model test: run only the sequence of this seed (in every mode)")
	modelN    = flag.Int("model.n", 0, "model test: random sequences per mode (default 6, 2 with -short)")
)

// modelRegressions are seeds that found a failure once, run in their mode
// before the random ones.
var modelRegressions = []struct {
	mode mode
	seed uint64
	note string
}{
	// A Write or Writer whose context had ended corrupted the compressor's
	// window (knownBugs "deflate-write-ended-ctx").
	{deflateEngine, 361066486, "c0:3 arrived with the right length and the wrong bytes"},
	{deflateEngine, 103063097, "the client saw 1007: flate: corrupt input"},
	{deflateTLS, 73394733, "c2:2 arrived with its header garbled"},
	{deflateTLS, 608823979, "three messages garbled"},
	// A Write of one goroutine still wrote the stream's ResponseWriter as
	// the handler returned after CloseNow (a data race inside net/http).
	{plainHTTP2, 668199048, "the race detector saw the handler return during a write"},
}

const (
	modelCloseTimeout = time.Second
	modelCtxLong      = 2 * time.Second
	modelPingWait     = 500 * time.Millisecond // a pong needs the peer to read: it may never come
)

// modelBound is how long any call of a sequence may take: the longest
// context or close timeout, and slack for a loaded machine.
func modelBound() time.Duration {
	if raceEnabled {
		return modelCtxLong + 4*time.Second
	}
	return modelCtxLong + 2*time.Second
}

// TestModel runs a few random sequences per mode (-model.n sets how many),
// after the regression seeds.
func TestModel(t *testing.T) {
	run(t, testModel)
}

func testModel(t *testing.T, m mode) {
	w := newModelWorld(t, m)
	var seeds []uint64
	for _, r := range modelRegressions {
		if r.mode == m && *modelSeed == 0 {
			seeds = append(seeds, r.seed)
		}
	}
	switch {
	case *modelSeed != 0:
		seeds = append(seeds, *modelSeed)
	default:
		n := *modelN
		if n == 0 {
			n = 6
			if testing.Short() {
				n = 2
			}
		}
		for range n {
			seeds = append(seeds, rand.Uint64()%1e9+1)
		}
	}
	for _, seed := range seeds {
		if !t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { w.sequence(t, seed) }) {
			t.Logf("%v: reproduce with go test -run 'TestModel/%v/seed=%d$' -model.seed=%d", m, m, seed, seed)
		}
	}
	if m.engine {
		t.Run("Engine.Close", w.engineCloseRunsOnClose)
	}
}

// modelWorld is the server of one mode's sequences.
type modelWorld struct {
	m        mode
	srv      *testServer
	peers    sync.Map // *Conn (the server's) → *modelLog
	accepted chan *Conn
}

// modelLog is what one end of a pair received, and the replies to the
// requests the client made of the server's OnMessage.
type modelLog struct {
	clock    atomic.Uint64 // orders the calls that read: see modelGot
	mu       sync.Mutex
	got      []modelGot // the data messages received, as recorded
	bad      []string   // what was wrong with a received message
	requests []string   // outcomes of calls made inside OnMessage
	wrong    []string   // those of them that went wrong
	written  []int      // the messages OnMessage wrote back (writer "so") whose Write returned nil
}

// modelGot is a message received, and the ticks of its log's clock taken
// when the call that read it began and after it returned. Several
// goroutines may read one connection: the messages reach them in order,
// but a goroutine may record its message after the next one was recorded
// by another. Two messages are known to have arrived in an order only when
// the call that read one returned before the call that read the other began.
type modelGot struct {
	header     string
	writer     string
	n          int
	start, end uint64
}

// tick reads the log's clock.
func (l *modelLog) tick() uint64 { return l.clock.Add(1) }

// record logs a message read by a call that began at tick start.
func (l *modelLog) record(typ MessageType, p []byte, start uint64) {
	end := l.tick()
	l.mu.Lock()
	defer l.mu.Unlock()
	h, err := checkModelMessage(typ, p)
	if err != nil {
		l.bad = append(l.bad, err.Error())
		return
	}
	writer, n, _ := strings.Cut(h, ":")
	k, _ := strconv.Atoi(n)
	l.got = append(l.got, modelGot{h, writer, k, start, end})
}

func newModelWorld(t *testing.T, m mode) *modelWorld {
	w := &modelWorld{m: m, accepted: make(chan *Conn, 1)}
	w.srv = m.start(t, handler{
		Accept: &AcceptOptions{CloseTimeout: modelCloseTimeout, ReadLimit: -1},
		OnAccept: func(c *Conn) {
			w.log(c)
			w.accepted <- c
		},
		OnMessage: w.onMessage,
	})
	return w
}

func (w *modelWorld) log(sc *Conn) *modelLog {
	l, _ := w.peers.LoadOrStore(sc, &modelLog{})
	return l.(*modelLog)
}

// onMessage records each message the server receives; a message that
// starts with "!" asks for a call from inside OnMessage (engine modes).
func (w *modelWorld) onMessage(c *Conn, typ MessageType, r io.Reader) {
	l := w.log(c)
	start := l.tick()
	p, err := io.ReadAll(r)
	if err != nil {
		return
	}
	req, ok := bytes.CutPrefix(p, []byte("!"))
	if !ok {
		l.record(typ, p, start)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	t0 := time.Now()
	wrong := false
	switch string(req) {
	case "ping":
		err = c.Ping(ctx)
	case "read":
		_, _, err = c.Read(ctx)
		wrong = !errors.Is(err, ErrReadOwned) || time.Since(t0) > 500*time.Millisecond
	case "reader":
		_, _, err = c.Reader(ctx)
		wrong = !errors.Is(err, ErrReadOwned) || time.Since(t0) > 500*time.Millisecond
	case "write":
		l.mu.Lock()
		n := len(l.requests) + 1
		l.mu.Unlock()
		if err = c.Write(ctx, MessageBinary, modelMessage("so", n, 100)); err == nil {
			l.mu.Lock()
			l.written = append(l.written, n)
			l.mu.Unlock()
		}
	}
	res := fmt.Sprintf("%s in OnMessage: %v after %v", req, err, time.Since(t0).Round(time.Millisecond))
	l.mu.Lock()
	l.requests = append(l.requests, res)
	if wrong {
		l.wrong = append(l.wrong, res+"; want ErrReadOwned at once")
	}
	l.mu.Unlock()
}

// A model message is "<writer>:<n>:<len>:" and len bytes of a pattern
// that depends on writer and n.
func modelMessage(writer string, n int, size int) []byte {
	p := fmt.Appendf(nil, "%s:%d:%d:", writer, n, size)
	seed := byte(len(writer)*31 + n)
	for i := range size {
		p = append(p, 'a'+(seed+byte(i))%26)
	}
	return p
}

// checkModelMessage checks a message is whole and returns its header.
func checkModelMessage(typ MessageType, p []byte) (string, error) {
	parts := strings.SplitN(string(p), ":", 4)
	if len(parts) != 4 {
		return "", fmt.Errorf("a %v message of %d bytes with no header: %.40q", typ, len(p), p)
	}
	n, _ := strconv.Atoi(parts[1])
	size, _ := strconv.Atoi(parts[2])
	if want := modelMessage(parts[0], n, size); !bytes.Equal(p, want) {
		return "", fmt.Errorf("message %s:%d: %d bytes, not the %d bytes sent", parts[0], n, len(p), len(want))
	}
	return parts[0] + ":" + parts[1], nil
}

// modelOp is one call of a sequence.
type modelOp struct {
	name string
	do   func(s *modelSeq) error
}

// modelSeq is one sequence run on one connection pair.
type modelSeq struct {
	w      *modelWorld
	c, sc  *Conn
	client modelLog // what the client's reads received

	// reading is held by the client goroutine whose Read or Reader is
	// under way, with the reading of its message: a Conn is read by one
	// goroutine at a time (a Reader's reader reads whatever message is
	// current, so a Reader of another goroutine would take its message
	// from under it). Several goroutines read in turn, each waiting for
	// its turn as long as its context allows.
	reading chan struct{}

	mu       sync.Mutex
	sent     map[string][]int // writer → numbers of the messages whose write returned nil
	calls    []string         // every call with its outcome, for the report
	problems []string
	ops      map[string]bool // which kinds of calls the sequence made
	closes   []modelClose    // Close calls that returned nil
	attempts int             // Close calls made
	disorder []string        // what may end the connection without a clean close
}

type modelClose struct {
	server bool
	code   StatusCode
}

func (s *modelSeq) note(format string, args ...any) {
	s.mu.Lock()
	s.calls = append(s.calls, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

func (s *modelSeq) problem(format string, args ...any) {
	s.mu.Lock()
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

func (s *modelSeq) messy(why string) {
	s.mu.Lock()
	s.disorder = append(s.disorder, why)
	s.mu.Unlock()
}

// ctxKind is when a call's context ends.
type ctxKind int

const (
	ctxLong   ctxKind = iota // outlives the call
	ctxBefore                // ended before the call
	ctxDuring                // ends a few milliseconds in, likely while the call waits
	ctxAfter                 // cancelled right after the call returned, then the sequence goes on
)

var ctxKindNames = [...]string{"long", "ended", "short", "cancel-after"}

func modelCtx(k ctxKind, rng *rand.Rand) (context.Context, context.CancelFunc) {
	switch k {
	case ctxBefore:
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx, cancel
	case ctxDuring:
		return context.WithTimeout(context.Background(), time.Duration(1+rng.IntN(20))*time.Millisecond)
	}
	return context.WithTimeout(context.Background(), modelCtxLong)
}

// modelPlan is what a sequence's goroutines call, and, for a clean
// sequence, the Close that ends it once they are done.
type modelPlan struct {
	client, server [][]modelOp
	clean          bool
	closer         modelClose // clean sequences: who closes, with what code
}

// plan draws a sequence. A clean one makes only calls whose contexts
// cannot break the connection, reads no more messages than the server
// writes, and ends with one Close once every goroutine is done, after which
// the peer must have seen every message and the code; the others use every
// call, Close and CloseNow included, at any time.
func (w *modelWorld) plan(rng *rand.Rand) modelPlan {
	p := modelPlan{clean: rng.IntN(2) == 0}
	p.client = make([][]modelOp, 1+rng.IntN(3))
	p.server = make([][]modelOp, rng.IntN(3))
	msgN := map[string]int{}
	serverWrites := 0
	for g := range p.server {
		for range 1 + rng.IntN(5) {
			op := w.serverOp(rng, fmt.Sprintf("s%d", g), msgN, p.clean)
			if strings.HasPrefix(op.name, "Write") {
				serverWrites++
			}
			p.server[g] = append(p.server[g], op)
		}
	}
	for g := range p.client {
		for range 2 + rng.IntN(6) {
			op := w.clientOp(rng, fmt.Sprintf("c%d", g), msgN, p.clean)
			if p.clean && strings.HasPrefix(op.name, "Read") && !strings.Contains(op.name, "ended") {
				if serverWrites == 0 {
					continue
				}
				serverWrites--
			}
			p.client[g] = append(p.client[g], op)
		}
	}
	p.closer = modelClose{server: rng.IntN(2) == 0, code: StatusCode(4000 + rng.IntN(1000))}
	return p
}

func closeOp(code StatusCode) func(server bool) modelOp {
	return func(server bool) modelOp {
		return modelOp{fmt.Sprintf("Close(%d)", code), func(s *modelSeq) error {
			c := s.c
			if server {
				c = s.sc
			}
			s.mu.Lock()
			s.attempts++
			s.mu.Unlock()
			err := c.Close(code, "model")
			if err == nil {
				s.mu.Lock()
				s.closes = append(s.closes, modelClose{server, code})
				s.mu.Unlock()
			}
			return err
		}}
	}
}

// write returns an op that writes message n of writer on the given end,
// whole or through a Writer.
func writeOp(m mode, server bool, writer string, n, size int, streamed bool, k ctxKind, rng *rand.Rand) modelOp {
	how := "Write"
	if streamed {
		how = "Writer"
	}
	name := fmt.Sprintf("%s(%s:%d, %d bytes, ctx %s)", how, writer, n, size, ctxKindNames[k])
	ctxRng := rand.New(rand.NewPCG(rng.Uint64(), 0))
	return modelOp{name, func(s *modelSeq) error {
		c := s.c
		if server {
			c = s.sc
		}
		ctx, cancel := modelCtx(k, ctxRng)
		defer cancel()
		msg := modelMessage(writer, n, size)
		var err error
		if !streamed {
			err = c.Write(ctx, MessageBinary, msg)
		} else {
			var wr io.WriteCloser
			if wr, err = c.Writer(ctx, MessageBinary); err == nil {
				half := len(msg) / 2
				if _, err = wr.Write(msg[:half]); err == nil {
					_, err = wr.Write(msg[half:])
				}
				if cerr := wr.Close(); err == nil {
					err = cerr
				}
			}
		}
		if err == nil {
			s.mu.Lock()
			s.sent[writer] = append(s.sent[writer], n)
			s.mu.Unlock()
		} else if k != ctxBefore && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
			s.messy(name + " ended by its context")
		}
		return err
	}}
}

func (w *modelWorld) clientOp(rng *rand.Rand, writer string, msgN map[string]int, clean bool) modelOp {
	kind := func() ctxKind {
		if clean {
			return []ctxKind{ctxLong, ctxBefore, ctxAfter}[rng.IntN(3)]
		}
		return ctxKind(rng.IntN(4))
	}
	choices := 6
	if !clean {
		choices = 10
	}
	switch rng.IntN(choices) {
	case 0, 1:
		msgN[writer]++
		return writeOp(w.m, false, writer, msgN[writer], modelSize(rng), rng.IntN(3) == 0, kind(), rng)
	case 2, 3:
		return readOp(w.m, rng.IntN(2) == 0, kind(), rng)
	case 4:
		k := kind()
		ctxRng := rand.New(rand.NewPCG(rng.Uint64(), 2)) // the plan's rng is not the goroutines' to share
		return modelOp{"Ping(ctx " + ctxKindNames[k] + ")", func(s *modelSeq) error {
			ctx, cancel := modelCtx(k, ctxRng)
			defer cancel()
			ctx, stop := context.WithTimeout(ctx, modelPingWait)
			defer stop()
			return s.c.Ping(ctx)
		}}
	case 5:
		reqs := []string{"write"}
		if w.m.engine {
			reqs = append(reqs, "ping", "read", "reader")
		}
		req := reqs[rng.IntN(len(reqs))]
		return modelOp{"ask for " + req + " in OnMessage", func(s *modelSeq) error {
			ctx, cancel := context.WithTimeout(context.Background(), modelCtxLong)
			defer cancel()
			return s.c.Write(ctx, MessageText, []byte("!"+req))
		}}
	case 6, 7:
		return closeOp(StatusCode(4000 + rng.IntN(1000)))(false)
	case 8:
		return modelOp{"CloseNow", func(s *modelSeq) error {
			s.messy("client CloseNow")
			return s.c.CloseNow()
		}}
	default:
		return modelOp{"CloseRead", func(s *modelSeq) error {
			s.messy("client CloseRead")
			s.c.CloseRead(context.Background())
			return nil
		}}
	}
}

func (w *modelWorld) serverOp(rng *rand.Rand, writer string, msgN map[string]int, clean bool) modelOp {
	choices := 3
	if !clean {
		choices = 5
	}
	switch rng.IntN(choices) {
	case 0, 1:
		k := ctxLong
		if !clean && rng.IntN(3) == 0 {
			k = ctxDuring
		}
		msgN[writer]++
		return writeOp(w.m, true, writer, msgN[writer], modelSize(rng), rng.IntN(3) == 0, k, rng)
	case 2:
		return modelOp{"server Ping", func(s *modelSeq) error {
			ctx, cancel := context.WithTimeout(context.Background(), modelPingWait)
			defer cancel()
			return s.sc.Ping(ctx)
		}}
	case 3:
		return closeOp(StatusCode(4000 + rng.IntN(1000)))(true)
	default:
		return modelOp{"server CloseNow", func(s *modelSeq) error {
			s.messy("server CloseNow")
			return s.sc.CloseNow()
		}}
	}
}

// modelSize is a message size: mostly small, now and then past a frame
// header's bounds or larger than the read buffers.
func modelSize(rng *rand.Rand) int {
	switch rng.IntN(8) {
	case 0:
		return 0
	case 1:
		return 125 + rng.IntN(3)
	case 2:
		return 60000 + rng.IntN(10000)
	}
	return rng.IntN(2000)
}

func readOp(m mode, streamed bool, k ctxKind, rng *rand.Rand) modelOp {
	how := "Read"
	if streamed {
		how = "Reader"
	}
	name := fmt.Sprintf("%s(ctx %s)", how, ctxKindNames[k])
	ctxRng := rand.New(rand.NewPCG(rng.Uint64(), 1))
	return modelOp{name, func(s *modelSeq) error {
		ctx, cancel := modelCtx(k, ctxRng)
		defer cancel()
		var typ MessageType
		var p []byte
		var err error
		select {
		case s.reading <- struct{}{}:
			defer func() { <-s.reading }()
		case <-ctx.Done():
			if k != ctxBefore {
				s.messy(name + " ended by its context")
			}
			return ctx.Err()
		}
		start := s.client.tick()
		if !streamed {
			typ, p, err = s.c.Read(ctx)
		} else {
			var r io.Reader
			if typ, r, err = s.c.Reader(ctx); err == nil {
				p, err = io.ReadAll(r)
			}
		}
		if k == ctxAfter {
			cancel() // then the sequence goes on with other contexts
		}
		if err == nil {
			s.client.record(typ, p, start)
		} else if k != ctxBefore && errors.Is(err, context.DeadlineExceeded) {
			s.messy(name + " ended by its context")
		}
		return err
	}}
}

// sequence runs the sequence of seed on a new connection pair and checks it.
func (w *modelWorld) sequence(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	plan := w.plan(rng)
	clientPlan, serverPlan, clean := plan.client, plan.server, plan.clean
	c := w.srv.dial(t, &DialOptions{CloseTimeout: modelCloseTimeout, ReadLimit: -1})
	var sc *Conn
	select {
	case sc = <-w.accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not accept")
	}
	s := &modelSeq{w: w, c: c, sc: sc, sent: map[string][]int{}, ops: map[string]bool{}, reading: make(chan struct{}, 1)}
	defer func() {
		if t.Failed() {
			t.Logf("%v seed %d (clean %v), calls:\n\t%s", w.m, seed, clean, strings.Join(s.calls, "\n\t"))
		}
	}()

	bound := modelBound()
	var wg sync.WaitGroup
	var running atomic.Int64
	current := make([]atomic.Value, len(clientPlan)+len(serverPlan))
	start := func(i int, side string, ops []modelOp) {
		wg.Go(func() {
			for _, op := range ops {
				current[i].Store(side + " " + op.name)
				running.Add(1)
				t0 := time.Now()
				err := op.do(s)
				d := time.Since(t0)
				running.Add(-1)
				s.note("%s %s: %v (%v)", side, op.name, err, d.Round(time.Millisecond))
				if d > bound {
					s.problem("%s %s took %v, more than %v: %v", side, op.name, d.Round(time.Millisecond), bound, err)
				}
			}
			current[i].Store("")
		})
	}
	for g, ops := range clientPlan {
		start(g, fmt.Sprintf("client g%d", g), ops)
	}
	for g, ops := range serverPlan {
		start(len(clientPlan)+g, fmt.Sprintf("server g%d", g), ops)
	}
	if !waitGroupWithin(&wg, 4*bound) {
		var stuck []string
		for i := range current {
			if v, _ := current[i].Load().(string); v != "" {
				stuck = append(stuck, v)
			}
		}
		c.CloseNow()
		sc.CloseNow()
		waitGroupWithin(&wg, bound)
		t.Fatalf("%v seed %d: calls still running after %v: %s", w.m, seed, 4*bound, strings.Join(stuck, "; "))
	}
	var clientEnd error
	if clean && len(s.disorder) == 0 {
		clientEnd = s.cleanClose(plan.closer)
	}
	w.finish(t, s, seed, clientEnd)
}

// cleanClose ends a clean sequence with cl's Close, nothing else running
// but, when the server closes, a client that reads until the end; it
// returns the error that ended the client's reads.
func (s *modelSeq) cleanClose(cl modelClose) error {
	bound := modelBound()
	ended := make(chan error, 1)
	if cl.server {
		go func() { ended <- s.drain() }()
	}
	closing := s.c
	if cl.server {
		closing = s.sc
	}
	t0 := time.Now()
	s.attempts++
	if err := closing.Close(cl.code, "model"); err != nil {
		s.problem("the final Close(%d) of the %s: %v", cl.code, side(cl.server), err)
	} else {
		s.closes = append(s.closes, cl)
	}
	if d := time.Since(t0); d > bound {
		s.problem("the final Close(%d) of the %s took %v", cl.code, side(cl.server), d)
	}
	s.note("final Close(%d) of the %s after %v", cl.code, side(cl.server), time.Since(t0).Round(time.Millisecond))
	if cl.server {
		return <-ended
	}
	return nil
}

func side(server bool) string {
	if server {
		return "server"
	}
	return "client"
}

// drain reads the client's connection until it ends and returns why.
func (s *modelSeq) drain() error {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), modelBound())
		start := s.client.tick()
		typ, p, err := s.c.Read(ctx)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				s.problem("the client's connection did not end within %v after the sequence", modelBound())
			}
			return err
		}
		s.client.record(typ, p, start)
	}
}

// finish ends the connection if the sequence left it open, then checks
// what the two ends saw. clientEnd is what ended the client's reads, when
// they were drained already.
func (w *modelWorld) finish(t *testing.T, s *modelSeq, seed uint64, clientEnd error) {
	if clientEnd == nil {
		// Whatever the sequence left, Close ends it within its timeout.
		t0 := time.Now()
		s.c.Close(StatusNormalClosure, "end")
		if d := time.Since(t0); d > modelBound() {
			s.problem("Close after the sequence took %v", d)
		}
		clientEnd = s.drain()
	}
	s.c.CloseNow()
	end := w.srv.ended(t)
	if end.c != s.sc {
		t.Fatalf("the server connection that ended is not the sequence's")
	}
	serverLog := w.log(s.sc)
	w.peers.Delete(s.sc)

	// Every message arrived whole, once, in the order of its writer.
	checkOrder := func(who string, l *modelLog, prefix string) map[string][]int {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, b := range l.bad {
			s.problem("%s received %s", who, b)
		}
		got := map[string][]int{}
		seen := map[string]bool{}
		for _, a := range l.got {
			if !strings.HasPrefix(a.writer, prefix) {
				s.problem("%s received %s, a message of its own side", who, a.header)
			}
			if seen[a.header] {
				s.problem("%s received %s twice", who, a.header)
			}
			seen[a.header] = true
			got[a.writer] = append(got[a.writer], a.n)
			for _, b := range l.got {
				if b.writer == a.writer && b.n > a.n && b.end < a.start {
					s.problem("%s received %s after %s", who, a.header, b.header)
				}
			}
		}
		for _, ns := range got {
			slices.Sort(ns)
		}
		return got
	}
	atServer := checkOrder("the server", serverLog, "c")
	atClient := checkOrder("the client", &s.client, "s")
	serverLog.mu.Lock()
	for _, r := range serverLog.requests {
		s.note("server %s", r)
	}
	for _, r := range serverLog.wrong {
		s.problem("%s", r)
	}
	s.sent["so"] = serverLog.written
	serverLog.mu.Unlock()

	// A clean sequence: one Close, nothing that breaks the connection.
	if len(s.disorder) == 0 && len(s.closes) == 1 && s.attempts == 1 {
		cl := s.closes[0]
		peerSaw, peer, closer := clientEnd, "client", "server"
		if !cl.server {
			peerSaw, peer, closer = end.err, "server", "client"
		}
		if CloseStatus(peerSaw) != cl.code {
			s.problem("the %s closed with %d and the %s saw %v", closer, cl.code, peer, peerSaw)
		}
		// What the closer's peer wrote before the close may be left
		// unread by the closer (Close discards it); what the closer
		// wrote reached the peer, which reads until the close frame.
		sent, got := s.sent, atServer
		if cl.server {
			got = atClient
		}
		for writer, ns := range sent {
			if strings.HasPrefix(writer, "s") != cl.server {
				continue
			}
			if fmt.Sprint(got[writer]) != fmt.Sprint(ns) {
				s.problem("%s wrote %v and the %s received %v", writer, ns, peer, got[writer])
			}
		}
	}
	if len(s.problems) > 0 {
		t.Errorf("%v seed %d: %s", w.m, seed, strings.Join(s.problems, "\n\t"))
	}
}

// engineCloseRunsOnClose checks that Engine.Close returns after OnClose
// ran for each connection it closed.
func (w *modelWorld) engineCloseRunsOnClose(t *testing.T) {
	c := w.srv.dial(t, &DialOptions{CloseTimeout: modelCloseTimeout})
	<-w.accepted
	go c.Read(context.Background()) // answers the engine's close
	w.srv.engine.Close()
	select {
	case <-w.srv.ends:
	default:
		t.Errorf("%v: Engine.Close returned before OnClose ran", w.m)
	}
}

// waitGroupWithin waits for wg at most d and reports whether it finished.
func waitGroupWithin(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
