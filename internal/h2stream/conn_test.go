package h2stream

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// blockedWriter is a stream whose writes wait for flow control until the
// write is aborted, then take a while to return, as net/http's do.
type blockedWriter struct {
	entered chan struct{}
	abort   chan struct{}
	done    chan struct{} // closed as Write returns
}

func (w *blockedWriter) Write(p []byte) (int, error) {
	close(w.entered)
	<-w.abort
	time.Sleep(50 * time.Millisecond)
	close(w.done)
	return 0, errors.New("stream reset")
}

// TestCloseWaitsForWrite checks that Close, and a second Close made while
// the first runs, return only once the Write under way has returned: over
// HTTP/2 a handler returns after CloseNow, and net/http's ResponseWriter
// must not be written after its handler returned.
func TestCloseWaitsForWrite(t *testing.T) {
	w := &blockedWriter{entered: make(chan struct{}), abort: make(chan struct{}), done: make(chan struct{})}
	s := newConn(&Conn{
		r:          io.NopCloser(nil),
		w:          w,
		abortWrite: func() { close(w.abort) },
		closeFn:    func() error { return nil },
		local:      addrOf(nil, ""),
		remote:     addrOf(nil, ""),
	})
	wrote := make(chan error, 1)
	go func() {
		_, err := s.Write([]byte("x"))
		wrote <- err
	}()
	<-w.entered
	second := make(chan struct{})
	go func() {
		time.Sleep(10 * time.Millisecond) // while the first Close waits
		s.Close()
		close(second)
	}()
	s.Close()
	select {
	case <-w.done:
	default:
		t.Fatal("Close returned while the stream's Write was under way")
	}
	<-second
	if err := <-wrote; !errors.Is(err, net.ErrClosed) {
		t.Errorf("the interrupted Write returned %v, want net.ErrClosed", err)
	}
	if _, err := s.Write([]byte("y")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("a Write after Close returned %v, want net.ErrClosed", err)
	}
}
