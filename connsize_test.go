package websocket

import (
	"context"
	"io"
	"math"
	"net"
	"reflect"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/duplexws/websocket/internal/netpoll"
)

// The memory budget of an idle connection (issue 12): what the Conn itself
// allocates, over TCP, once it has read a message and waits for the next.
// Raising a figure here needs a reason in the commit that does it.
//
// An engine's connection (engine mode) is the Conn and its engineConn
// (TestEngineConnSize holds its size): 288 + 96 bytes, in two allocations.
const (
	// maxConnSize keeps the Conn in the 288-byte size class, which
	// net/http's per-request allocations leave alone (a size class the
	// handshake also allocates in ends up with holes between the Conns).
	maxConnSize = 288
	// maxIdleConnBytes is what a connection in goroutine mode holds: the
	// Conn, its netpoll.RawIO (128 bytes), net's syscall.RawConn of the socket (8)
	// and the bound functions the reader and the writer go through it with
	// (16 each): 456, and what the pools' refills add on average.
	maxIdleConnBytes  = 480
	maxIdleConnAllocs = 5
)

func TestConnSize(t *testing.T) {
	if n := reflect.TypeFor[Conn]().Size(); n > maxConnSize {
		t.Errorf("Conn is %d bytes, over the budget of %d: keep rarely used fields in connRare", n, maxConnSize)
	}
	if n := reflect.TypeFor[netpoll.RawIO]().Size(); n > 128 {
		t.Errorf("netpoll.RawIO is %d bytes, over the budget of 128", n)
	}
}

// TestIdleConnAllocs makes server connections over loopback TCP, has each
// read one message with Reader and write one, and counts what that allocated per
// connection, which is what each holds while idle: no channel, no closure
// other than the reader's, no buffer. Goroutines of other tests may still
// be allocating, which only adds: the least of up to a dozen rounds counts.
func TestIdleConnAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes what is allocated")
	}
	const rounds, n = 12, 64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	frame := maskedFrame(opBinary, true, "hello")
	servers := make([]net.Conn, rounds*n+1)
	for i := range servers {
		cl, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		sv, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer sv.Close()
		if _, err := cl.Write(frame); err != nil {
			t.Fatal(err)
		}
		servers[i] = sv
	}
	ctx := context.Background()
	buf := make([]byte, 5)
	conns := make([]*Conn, 0, len(servers))
	open := func(nc net.Conn) {
		c := newConn(newConnReader(nc, 0), false, connConfig{})
		if _, r, err := c.Reader(ctx); err != nil {
			t.Fatal(err)
		} else if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatal(err)
		}
		if err := c.Write(ctx, MessageBinary, buf); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	open(servers[0]) // fills the buffer pools
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	bytes, allocs := uint64(math.MaxUint64), uint64(math.MaxUint64)
	for r := range rounds {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, nc := range servers[1+r*n : 1+(r+1)*n] {
			open(nc)
		}
		runtime.ReadMemStats(&after)
		bytes = min(bytes, (after.TotalAlloc-before.TotalAlloc)/n)
		allocs = min(allocs, (after.Mallocs-before.Mallocs)/n)
		if bytes <= maxIdleConnBytes && allocs <= maxIdleConnAllocs {
			break // a round quiet enough to count has been seen
		}
	}
	t.Logf("Conn %d bytes; an idle connection allocated %d bytes in %d allocations", reflect.TypeFor[Conn]().Size(), bytes, allocs)
	if bytes > maxIdleConnBytes || allocs > maxIdleConnAllocs {
		t.Errorf("an idle connection allocated %d bytes in %d allocations; the budget is %d bytes in %d", bytes, allocs, maxIdleConnBytes, maxIdleConnAllocs)
	}
	runtime.KeepAlive(conns)
}

// TestDefaultOptionsCostNoRecord: options set to their defaults explicitly
// leave a connection as small as options left zero.
func TestDefaultOptionsCostNoRecord(t *testing.T) {
	a, _ := net.Pipe()
	defer a.Close()
	c := newConn(newConnReader(a, 0), false, connConfig{
		closeTimeout:    defaultCloseTimeout,
		writeBufferSize: defaultBufferSize,
		stallTimeout:    defaultStallTimeout,
	})
	if c.rare.Load() != nil {
		t.Error("options equal to their defaults made the connection a record of them")
	}
	if c.closeTimeout() != defaultCloseTimeout || c.writeBufferSize() != defaultBufferSize || c.stallTimeout() != defaultStallTimeout {
		t.Errorf("defaults: close %v, write buffer %d, stall %v", c.closeTimeout(), c.writeBufferSize(), c.stallTimeout())
	}
}
