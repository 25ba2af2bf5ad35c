package autobahn

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// acceptStream is acceptHandshake for an HTTP/2 extended CONNECT (RFC 8441):
// it answers 200 and plays the case on the request's stream, which ends
// when the handler returns.
func acceptStream(w http.ResponseWriter, r *http.Request, answer func(offer string) string) (*handshake, error) {
	var problem string
	switch {
	case r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket":
		problem = "an HTTP/2 WebSocket is an extended CONNECT with :protocol websocket"
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		problem = "Sec-WebSocket-Version must be 13"
	}
	if problem != "" {
		http.Error(w, problem, http.StatusBadRequest)
		return nil, fmt.Errorf("%w: %s", errHandshake, problem)
	}
	offer := strings.Join(r.Header.Values("Sec-WebSocket-Extensions"), ", ")
	var ext string
	if answer != nil && offer != "" {
		ext = answer(offer)
	}
	if ext != "" {
		w.Header().Set("Sec-WebSocket-Extensions", ext)
	}
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, fmt.Errorf("%w: %v", errHandshake, err)
	}
	conn := &stream{r: r.Body, w: w, rc: rc}
	return &handshake{conn: conn, br: bufio.NewReaderSize(conn, 64<<10), offer: offer, answer: ext}, nil
}

// stream is the server's end of an HTTP/2 stream as the net.Conn a session
// needs: reads from the request body, flushed writes to the response.
// Closing it stops the reads and refuses later writes; the stream ends as
// the handler returns. The session closes it before play returns, and
// net/http forbids using the ResponseWriter once the handler has returned,
// so Close waits for a write in progress and a late one (a close frame
// sent from another goroutine) fails instead of racing the handler's end.
type stream struct {
	r  io.ReadCloser
	w  http.ResponseWriter
	rc *http.ResponseController

	mu     sync.Mutex // held by a write, and by Close
	closed bool
}

func (s *stream) Read(p []byte) (int, error) { return s.r.Read(p) }

func (s *stream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, net.ErrClosed
	}
	n, err := s.w.Write(p)
	if err == nil {
		err = s.rc.Flush()
	}
	return n, err
}

func (s *stream) Close() error {
	err := s.r.Close()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return err
}

func (s *stream) LocalAddr() net.Addr              { return streamAddr{} }
func (s *stream) RemoteAddr() net.Addr             { return streamAddr{} }
func (s *stream) SetDeadline(time.Time) error      { return nil }
func (s *stream) SetReadDeadline(time.Time) error  { return nil }
func (s *stream) SetWriteDeadline(time.Time) error { return nil }

type streamAddr struct{}

func (streamAddr) Network() string { return "http2" }
func (streamAddr) String() string  { return "HTTP/2 stream" }
