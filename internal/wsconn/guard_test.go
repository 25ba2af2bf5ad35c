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
