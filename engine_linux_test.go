package websocket

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// startEngineConns serves every connection through an engine made with
// opts (nil for one that ignores messages), and hands the tests each
// server-side Conn.
func startEngineConns(t *testing.T, opts *EngineOptions) (e *Engine, url string, conns <-chan *Conn) {
	t.Helper()
	if opts == nil {
		opts = &EngineOptions{OnMessage: func(*Conn, MessageType, io.Reader) {}}
	}
	e, err := NewEngine(opts)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *Conn, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, &AcceptOptions{CloseTimeout: 500 * time.Millisecond})
		if err != nil {
			return
		}
		if err := e.Serve(c); err != nil {
			t.Errorf("Serve: %v", err)
		}
		ch <- c
	}))
	t.Cleanup(func() {
		srv.Close()
		e.Close()
	})
	return e, "ws" + strings.TrimPrefix(srv.URL, "http"), ch
}

// takenOver waits for the next server-side Conn and checks that the engine
// moved it to a descriptor of its own.
func takenOver(t *testing.T, conns <-chan *Conn) *Conn {
	t.Helper()
	select {
	case c := <-conns:
		waitFor(t, 5*time.Second, "the engine to take the descriptor over", func() bool {
			if !c.readLock.TryLock() {
				return false
			}
			defer c.readLock.Unlock()
			_, ok := c.br.nc.(interface{ ReadNow([]byte) (int, error) })
			return ok
		})
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection reached the handler")
		return nil
	}
}

// bigMessage is larger than loopback's socket buffers on both ends, so that
// writing it blocks until the peer reads.
const bigMessage = 64 << 20

// blockedWrite starts a write of a message the peer does not read, waits
// until it is blocked, and returns its result to come.
func blockedWrite(t *testing.T, ctx context.Context, c *Conn) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.Write(ctx, MessageBinary, make([]byte, bigMessage)) }()
	select {
	case err := <-done:
		t.Fatalf("the write of %d bytes to a peer that does not read returned: %v", bigMessage, err)
	case <-time.After(300 * time.Millisecond):
	}
	// On a loaded machine the goroutine may not have begun: wait until
	// the write holds the frame lock, as one blocked on the socket does.
	waitFor(t, 5*time.Second, "the write to begin", func() bool {
		if c.frameLock.TryLock() {
			c.frameLock.Unlock()
			return false
		}
		return true
	})
	return done
}

func TestFDConnAddresses(t *testing.T) {
	t.Parallel()
	_, url, conns := startEngineConns(t, nil)
	nc := rawUpgrade(t, url)
	sc := takenOver(t, conns)
	if got, want := sc.RemoteAddr().String(), nc.LocalAddr().String(); got != want {
		t.Errorf("RemoteAddr = %s, want %s", got, want)
	}
	if got, want := sc.LocalAddr().String(), nc.RemoteAddr().String(); got != want {
		t.Errorf("LocalAddr = %s, want %s", got, want)
	}
}

// TestFDConnBlockedWriteResumes checks that a write blocked on a full
// socket resumes when the engine's epoll reports the socket writable.
func TestFDConnBlockedWriteResumes(t *testing.T) {
	t.Parallel()
	_, url, conns := startEngineConns(t, nil)
	nc := rawUpgrade(t, url)
	sc := takenOver(t, conns)
	done := blockedWrite(t, context.Background(), sc)
	nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := io.CopyN(io.Discard, nc, 10+bigMessage) // header and payload
	if err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the write did not resume once the peer read")
	}
	// The connection is still usable both ways.
	if err := sc.Write(context.Background(), MessageText, []byte("after")); err != nil {
		t.Fatalf("Write after: %v", err)
	}
	buf := make([]byte, 7)
	if _, err := io.ReadFull(nc, buf); err != nil || string(buf[2:]) != "after" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

// TestFDConnBlockedWriteContext checks that a write blocked on a full
// socket returns when its context ends, and that the deadline its context
// set does not outlive it for the next write's context.
func TestFDConnBlockedWriteContext(t *testing.T) {
	t.Parallel()
	e, url, conns := startEngineConns(t, nil)
	rawUpgrade(t, url)
	sc := takenOver(t, conns)
	ctx, cancel := context.WithCancel(context.Background())
	done := blockedWrite(t, ctx, sc)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Write = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the write did not return when its context ended")
	}
	// An abandoned write leaves a partial frame: the connection is closed.
	waitFor(t, 5*time.Second, "the engine to let go", func() bool { return e.served() == 0 })
}

// TestFDConnCloseDuringWrite checks that closing a connection whose write
// is blocked ends the write, and the connection, at once.
func TestFDConnCloseDuringWrite(t *testing.T) {
	t.Parallel()
	e, url, conns := startEngineConns(t, nil)
	rawUpgrade(t, url)
	sc := takenOver(t, conns)
	done := blockedWrite(t, context.Background(), sc)
	sc.CloseNow()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Write = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the write did not return when the connection closed")
	}
	waitFor(t, 5*time.Second, "the engine to let go", func() bool { return e.served() == 0 })
	if err := sc.br.nc.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a second Close = %v, want net.ErrClosed", err)
	}
}

// TestEngineConnSize holds an engine connection's share of the memory
// budget (connsize_test.go): its transport in event mode included, it
// stays in the 96-byte size class.
func TestEngineConnSize(t *testing.T) {
	if size := reflect.TypeFor[engineConn]().Size(); size > 96 {
		t.Errorf("engineConn is %d bytes, more than the 96-byte size class", size)
	}
}

// TestEngineServeBusyWriter checks that a connection whose frame lock stays
// busy past its close timeout while Serve takes it over keeps its
// net.TCPConn and is served by a goroutine, and echoes all the same.
func TestEngineServeBusyWriter(t *testing.T) {
	t.Parallel()
	ee := startEngineEcho(t, nil, nil)
	e := ee.e
	served := make(chan *Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, &AcceptOptions{CloseTimeout: 100 * time.Millisecond})
		if err != nil {
			return
		}
		c.frameLock.TryLock() // a frame being written, for longer than the close timeout
		if err := e.Serve(c); err != nil {
			t.Errorf("Serve: %v", err)
		}
		c.frameLock.Unlock()
		served <- c
	}))
	defer srv.Close()
	c := dialT(t, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	sc := <-served
	if _, ok := sc.br.nc.(*net.TCPConn); !ok {
		t.Fatalf("the transport is a %T, want the *net.TCPConn it kept", sc.br.nc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	checkEchoes(t, ctx, c)
	c.Close(StatusNormalClosure, "")
	waitFor(t, 5*time.Second, "the engine to let go", func() bool { return e.served() == 0 })
}

// TestEngineUnfinishedFrameWaitsWithoutGoroutine checks that a connection
// whose peer announced a frame larger than the read buffer and sent only a
// few bytes of it waits in the poller holding those bytes alone, with no
// call of OnMessage and so no goroutine, and that the message is delivered
// whole once the rest arrives.
func TestEngineUnfinishedFrameWaitsWithoutGoroutine(t *testing.T) {
	t.Parallel()
	const size = 1 << 20
	got := make(chan int, 1)
	begun := make(chan struct{}, 1)
	_, url, conns := startEngineConns(t, &EngineOptions{OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
		begun <- struct{}{}
		n, _ := io.Copy(io.Discard, r)
		got <- int(n)
	}})
	nc := rawUpgrade(t, url)
	sc := takenOver(t, conns)
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	key := uint32(0x01020304)
	masked := append([]byte(nil), payload...)
	mask(key, masked)
	hdr := appendFrameHeader(nil, frameHeader{fin: true, op: opBinary, masked: true, length: size, key: key})
	if _, err := nc.Write(append(hdr, masked[:16]...)); err != nil {
		t.Fatal(err)
	}
	held := 0
	waitFor(t, 5*time.Second, "the connection to park with the 16 bytes", func() bool {
		if !sc.readLock.TryLock() {
			return false
		}
		defer sc.readLock.Unlock()
		if sc.br.buffered() != len(hdr)+16 {
			return false
		}
		held = cap(*sc.br.buf)
		return true
	})
	if held > len(hdr)+16 {
		t.Errorf("the parked connection holds a buffer of %d bytes for %d unread", held, len(hdr)+16)
	}
	select {
	case <-begun:
		t.Fatal("OnMessage began before a buffer of the frame had arrived")
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := nc.Write(masked[16:]); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n != size {
			t.Fatalf("OnMessage read %d bytes, want %d", n, size)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the message was not delivered once it had arrived")
	}
}

// TestEngineMaxUnfinishedBytes checks the engine's budget of unfinished
// messages: with room for one, a second message streamed before its end
// arrived waits, its connection unread and holding no goroutine, until the
// first has been delivered; a message that arrives whole is delivered
// meanwhile; and both streamed messages arrive intact.
func TestEngineMaxUnfinishedBytes(t *testing.T) {
	t.Parallel()
	const size = 256 << 10
	type result struct {
		n   int
		err error
	}
	got := make(chan result, 4)
	begun := make(chan struct{}, 4)
	_, url, conns := startEngineConns(t, &EngineOptions{
		MaxUnfinishedBytes: 1,
		OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
			if typ == MessageText {
				echoMessage(c, typ, r)
				return
			}
			begun <- struct{}{}
			n, err := io.Copy(io.Discard, r)
			got <- result{int(n), err}
		},
	})
	key := uint32(0x0a0b0c0d)
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	mask(key, payload)
	hdr := appendFrameHeader(nil, frameHeader{fin: true, op: opBinary, masked: true, length: size, key: key})
	first, second := rawUpgrade(t, url), rawUpgrade(t, url)
	takenOver(t, conns)
	takenOver(t, conns)
	expect := func(what string) {
		t.Helper()
		select {
		case r := <-got:
			if r.err != nil || r.n != size {
				t.Fatalf("%s: OnMessage read %d bytes, %v; want %d", what, r.n, r.err, size)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s was not delivered", what)
		}
	}
	// The first message begins streaming: a buffer of it has arrived.
	if _, err := first.Write(append(hdr, payload[:16<<10]...)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-begun:
	case <-time.After(5 * time.Second):
		t.Fatal("the first message did not begin")
	}
	// The second waits for it.
	if _, err := second.Write(append(hdr, payload[:16<<10]...)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-begun:
		t.Fatal("a second unfinished message began past the budget")
	case <-time.After(200 * time.Millisecond):
	}
	// A message that arrives whole goes on.
	c := dialT(t, url, nil)
	echoRoundTrip(t, c, "whole messages go on")
	// The first ends; the second begins, and ends.
	if _, err := first.Write(payload[16<<10:]); err != nil {
		t.Fatal(err)
	}
	expect("the first message")
	select {
	case <-begun:
	case <-time.After(5 * time.Second):
		t.Fatal("the held message did not begin once the first had ended")
	}
	if _, err := second.Write(payload[16<<10:]); err != nil {
		t.Fatal(err)
	}
	expect("the second message")
}

// TestEngineMidMessageHoldsNoReadBuffer checks that an OnMessage waiting in
// the middle of a message for the rest of it holds no read buffer: the
// engine's read borrows one only once bytes are there. What a connection
// so waiting adds to the live heap of an idle one (its goroutine's record,
// its stall watch: about 2 KiB) stays under a read buffer (4 KiB), which
// it did not before.
func TestEngineMidMessageHoldsNoReadBuffer(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes what is allocated")
	}
	const conns = 200
	var reading sync.WaitGroup
	e, err := NewEngine(&EngineOptions{OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
		var p [1024]byte
		io.ReadFull(r, p[:]) // the first KiB has arrived
		reading.Done()
		for { // reads what is left of the 8 KiB, then waits for the rest
			if _, err := r.Read(p[:]); err != nil {
				return
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := Accept(w, r, nil); err == nil {
			e.Serve(c)
		}
	}))
	t.Cleanup(func() {
		srv.Close()
		e.Close()
	})
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	hdr := appendFrameHeader(nil, frameHeader{fin: true, op: opBinary, masked: true, length: 1 << 20, key: 0})
	first := append(hdr, make([]byte, 8<<10)...) // a key of 0 masks nothing
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC() // the second empties the pools' victim caches
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	clients := make([]net.Conn, 0, conns)
	for range conns {
		clients = append(clients, rawUpgrade(t, url))
	}
	waitFor(t, 5*time.Second, "the engine to serve every connection", func() bool { return e.Len() == conns })
	before := heap() // of the connections, idle
	reading.Add(conns)
	for _, nc := range clients {
		if _, err := nc.Write(first); err != nil {
			t.Fatal(err)
		}
	}
	reading.Wait()
	time.Sleep(100 * time.Millisecond) // each OnMessage reads what is left of its 8 KiB, then waits
	per := (int64(heap()) - int64(before)) / conns
	t.Logf("%d bytes of live heap per connection waiting inside a message, over the idle connection", per)
	if per >= 4096 {
		t.Errorf("%d bytes of live heap per connection waiting inside a message, over the idle connection; want under a 4 KiB read buffer", per)
	}
	runtime.KeepAlive(clients)
}
