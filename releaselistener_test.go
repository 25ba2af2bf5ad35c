package websocket

import (
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReleaseListener: memory is released once per burst of Burst
// connections, after Quiet without a connection, and not while
// connections keep coming or before a burst.
func TestReleaseListener(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl := NewReleaseListener(ln, &ReleaseOptions{Burst: 5, Quiet: 100 * time.Millisecond})
	var released atomic.Int32
	rl.release = func() { released.Add(1) }
	defer rl.Close()
	accepted := make(chan net.Conn, 100)
	go func() {
		for {
			nc, err := rl.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- nc
		}
	}()
	dial := func(n int) {
		t.Helper()
		for range n {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			(<-accepted).Close()
		}
	}
	dial(4)
	time.Sleep(300 * time.Millisecond)
	if n := released.Load(); n != 0 {
		t.Fatalf("released %d times after 4 connections, want none before a burst of 5", n)
	}
	// Connections keep coming, 30 ms apart: no quiet spell of 100 ms,
	// unless the machine stalled this test that long.
	last, gap := time.Now(), time.Duration(0)
	for range 6 {
		dial(1)
		gap, last = max(gap, time.Since(last)), time.Now()
		time.Sleep(30 * time.Millisecond)
	}
	if n := released.Load(); n != 0 && gap < 90*time.Millisecond {
		t.Fatalf("released %d times while connections kept coming", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for released.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := released.Load(); n != 1 {
		t.Fatalf("released %d times after a burst and a quiet spell, want 1", n)
	}
}

// TestReleaseMemoryEmptiesPools checks that a release frees what a
// sync.Pool held when it began, which one garbage collection only moves to
// the pool's victim cache.
func TestReleaseMemoryEmptiesPools(t *testing.T) {
	const size = 64 << 20
	var pool sync.Pool
	pool.Put(make([]byte, size))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	releaseMemory()
	runtime.ReadMemStats(&after)
	if freed := int64(before.HeapInuse) - int64(after.HeapInuse); freed < size*15/16 {
		t.Errorf("the release freed %d bytes of heap, want the pooled %d", freed, size)
	}
	runtime.KeepAlive(&pool)
}
