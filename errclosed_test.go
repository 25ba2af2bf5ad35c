package websocket

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// TestErrClosedMatchesNetErrClosed checks that code written for net.Conn,
// which tests errors.Is(err, net.ErrClosed), sees a closed WebSocket.
func TestErrClosedMatchesNetErrClosed(t *testing.T) {
	if !errors.Is(ErrClosed, net.ErrClosed) {
		t.Fatal("ErrClosed does not match net.ErrClosed")
	}
	if errors.Is(net.ErrClosed, ErrClosed) {
		t.Fatal("net.ErrClosed matches ErrClosed: an unrelated closed socket would look like a WebSocket close")
	}
	server, client := pipePair(t)
	go server.Close(StatusNormalClosure, "bye")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := client.Read(ctx)
	if !errors.Is(err, net.ErrClosed) || !errors.Is(err, ErrClosed) || CloseStatus(err) != StatusNormalClosure {
		t.Fatalf("Read after the peer closed: %v; want a *CloseError matching ErrClosed and net.ErrClosed", err)
	}
	if err := client.Write(ctx, MessageText, []byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after close: %v; want an error matching net.ErrClosed", err)
	}
}
