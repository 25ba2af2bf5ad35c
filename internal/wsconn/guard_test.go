package wsconn

import (
	"net"
	"runtime"
	"testing"
	"time"
)

// TestClaimedGuardLetsGoOfConn: once a handshake claimed a guarded
// connection, its guard (which an engine keeps for the connection's life)
// no longer holds the connection through its handshake timer, so a
// net.TCPConn the engine closed and dropped is collected.
func TestClaimedGuardLetsGoOfConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	collected := make(chan struct{})
	runtime.AddCleanup(nc.(*net.TCPConn), func(ch chan struct{}) { close(ch) }, collected)
	wrapped := NewGuard(nc, time.Minute, func() {}, func() {})
	g := wrapped.(*GuardedTCPConn).G
	Claim(wrapped, t.Context())
	nc.Close()
	nc, wrapped = nil, nil
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		select {
		case <-collected:
			runtime.KeepAlive(g)
			return
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the claimed guard still holds the connection")
		}
	}
}

// TestHeldGuardGivesWayToShared checks a guard that a connection holds
// itself: claimed, it stops its timeout and gives the listener's shared
// guard, which counts each release; unclaimed, it expires, closes the
// connection and counts it once.
func TestHeldGuardGivesWayToShared(t *testing.T) {
	var freed, expired int
	shared := NewSharedGuard(func() { freed++ })
	closed := make(chan struct{}, 2)
	g := NewHeldGuard(func() { expired++ }, func() { freed++ }, shared)
	g.Start(closerFunc(func() error { closed <- struct{}{}; return nil }), time.Hour)
	if next := g.Claim(); next != shared {
		t.Fatalf("Claim gave %p, want the shared guard %p", next, shared)
	}
	if g.Claim() != nil {
		t.Error("a second Claim gave a guard")
	}
	if g.timer.Load() != nil {
		t.Error("the claimed guard still holds its timer")
	}
	shared.Release()
	shared.Release()
	if freed != 2 {
		t.Errorf("two releases of the shared guard counted %d", freed)
	}

	late := NewHeldGuard(func() { expired++ }, func() { freed++ }, shared)
	late.Start(closerFunc(func() error { late.Release(); closed <- struct{}{}; return nil }), time.Millisecond)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the unclaimed guard did not close its connection")
	}
	if late.Claim() != nil {
		t.Error("an expired guard was claimed")
	}
	late.Release()
	if expired != 1 || freed != 3 {
		t.Errorf("expired %d, freed %d; want 1 and 3", expired, freed)
	}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
