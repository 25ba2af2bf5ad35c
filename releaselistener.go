package websocket

import (
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// ReleaseOptions configures NewReleaseListener. The zero value, like a nil
// pointer, gives the defaults each field names.
type ReleaseOptions struct {
	// Burst is how many connections must have been accepted since the
	// last release for a quiet spell to release memory: 1,000 when zero.
	Burst int

	// Quiet is how long no connection must have been accepted, once a
	// burst has come, before the memory is released: 1 second when zero.
	Quiet time.Duration
}

// Defaults of ReleaseOptions.
const (
	defaultReleaseBurst = 1000
	defaultReleaseQuiet = time.Second
)

// ReleaseListener is a net.Listener that returns to the system, once a
// burst of connections has been accepted and none has come for a moment,
// the memory their handshakes left behind. Each handshake served by
// net/http leaves some 10 KiB of garbage (its buffers, its request, its
// goroutine's stack), which the Go runtime keeps until its next garbage
// collection and keeps resident until its scavenger, which paces itself
// over minutes, gives it back; after a storm of 10,000 connections a
// process holds twice what its connections use, and keeps most of it for
// minutes (bench/RESULTS.md, "Cold start"). The listener collects garbage
// twice once per burst, since what the handshakes left in sync.Pools
// (net/http's buffers, Duplex's) outlives the first collection, then
// returns every free page (debug.FreeOSMemory). A server accepting connections steadily never sees a
// quiet spell and is left to the runtime.
//
// It changes nothing else: the connections it returns are those of the
// listener it wraps, so an [Engine] still takes a TCP connection's socket
// over, an Engine's own [Engine.ServeUpgrades] still accepts the sockets
// of a *net.TCPListener inside it itself (and counts them), and a
// [Listener] inside it still guards its connections:
//
//	ln, _ := net.Listen("tcp", ":8080")
//	wl := websocket.NewListener(ln, nil)
//	srv := &http.Server{Handler: mux, ConnContext: wl.ConnContext}
//	srv.Serve(websocket.NewReleaseListener(wl, nil))
//
// Its methods are safe for concurrent use.
type ReleaseListener struct {
	net.Listener
	burst   int
	quiet   time.Duration
	release func() // releaseMemory; tests count calls instead

	mu       sync.Mutex
	accepted int         // since the last release
	timer    *time.Timer // armed once a burst has come; nil after Close
	gen      uint64      // of timer: a stale timer's call does nothing
	closed   bool
}

// NewReleaseListener wraps ln in a ReleaseListener.
func NewReleaseListener(ln net.Listener, opts *ReleaseOptions) *ReleaseListener {
	var o ReleaseOptions
	if opts != nil {
		o = *opts
	}
	if o.Burst <= 0 {
		o.Burst = defaultReleaseBurst
	}
	if o.Quiet <= 0 {
		o.Quiet = defaultReleaseQuiet
	}
	return &ReleaseListener{Listener: ln, burst: o.Burst, quiet: o.Quiet, release: releaseMemory}
}

// Accept waits for and returns the next connection of the listener it
// wraps, and counts it towards a burst.
func (l *ReleaseListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.count()
	return nc, nil
}

// count counts a connection accepted towards a burst: Accept's, or one
// that an Engine accepted itself from the listener underneath
// (Engine.ServeUpgrades).
func (l *ReleaseListener) count() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.accepted++
	switch {
	case l.timer != nil:
		l.timer.Reset(l.quiet)
	case l.accepted >= l.burst:
		l.gen++
		gen := l.gen
		l.timer = time.AfterFunc(l.quiet, func() { l.quietSpell(gen) })
	}
}

// releaseMemory returns to the system the memory no longer in use: two
// garbage collections, the first moving what sync.Pools hold to their
// victim caches and the second freeing it, then every free page.
func releaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// quietSpell releases memory once no connection has come for Quiet after a
// burst.
func (l *ReleaseListener) quietSpell(gen uint64) {
	l.mu.Lock()
	if l.closed || l.timer == nil || l.gen != gen {
		l.mu.Unlock()
		return
	}
	l.accepted, l.timer = 0, nil
	l.mu.Unlock()
	l.release()
}

// Close closes the listener it wraps; a release not yet made is not made.
func (l *ReleaseListener) Close() error {
	l.mu.Lock()
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	return l.Listener.Close()
}
