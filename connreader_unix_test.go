//go:build unix

package websocket

import (
	"bytes"
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestBlockingDescriptor makes the server's descriptor blocking, as
// os.File.Fd does to a descriptor it shares: reads and writes still go
// through the runtime's poller, and a read waiting for a message holds up
// neither the garbage collector's stop of the world nor the writer.
func TestBlockingDescriptor(t *testing.T) {
	t.Parallel()
	server, client := tcpPair(t)
	if server.br.sys == nil || client.br.sys == nil {
		t.Fatal("a TCP connection is not read through its descriptor")
	}
	raw, err := server.br.nc.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	raw.Control(func(fd uintptr) { err = syscall.SetNonblock(int(fd), false) })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type result struct {
		p   []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		_, p, err := server.Read(ctx)
		got <- result{p, err}
	}()
	time.Sleep(50 * time.Millisecond) // the read waits for the message
	gc := make(chan struct{})
	go func() {
		runtime.GC()
		close(gc)
	}()
	select {
	case <-gc:
	case <-time.After(10 * time.Second):
		t.Fatal("a garbage collection did not finish while a read waited")
	}
	if err := client.Write(ctx, MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.err != nil || string(r.p) != "hello" {
		t.Fatalf("Read: %q, %v", r.p, r.err)
	}
	// A message far larger than the socket's buffers: the writer waits
	// for room, and every byte arrives in order.
	big := make([]byte, 8<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	wrote := make(chan error, 1)
	go func() { wrote <- server.Write(ctx, MessageBinary, big) }()
	time.Sleep(50 * time.Millisecond) // the writer fills the socket
	client.SetReadLimit(-1)
	_, p, err := client.Read(ctx)
	if err != nil || !bytes.Equal(p, big) {
		t.Fatalf("Read of %d bytes: %d bytes, equal %t, %v", len(big), len(p), bytes.Equal(p, big), err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}
