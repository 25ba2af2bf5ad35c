package bench

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/duplexws/websocket"
)

// Environment variables that turn the test binary into a benchmark server.
const (
	// envServer names the library whose server the process runs.
	envServer = "DUPLEX_BENCH_SERVER"
	// envCompress is the compressMode of that server.
	envCompress = "DUPLEX_BENCH_COMPRESS"
	// envProfile, when set, is a directory where each server process
	// writes a CPU profile of its whole life, <lib>-<mode>-<pid>.cpu.pprof,
	// and, when told to stop, a heap profile of what it then holds,
	// <lib>-<mode>-<pid>.heap.pprof, and a profile of its goroutines'
	// waits on channels, locks and selects longer than 10 µs,
	// <lib>-<mode>-<pid>.block.pprof.
	envProfile = "DUPLEX_BENCH_CPUPROFILE"
	// envServerCPUs, when set, pins every server process to these CPUs
	// (a taskset list such as "0"), so that a run can keep the server and
	// the client on cores of their own.
	envServerCPUs = "DUPLEX_BENCH_SERVER_CPUS"
	// envServerGodebug, when set, is the GODEBUG of every server process
	// (gctrace=1 to watch its garbage collections), leaving the
	// benchmark process's own as it is.
	envServerGodebug = "DUPLEX_BENCH_SERVER_GODEBUG"
	// envNATS is the NATS URL of the duplex-history server.
	envNATS = "DUPLEX_BENCH_NATS"
)

// maxMessage is the read limit given to every server, above the largest
// benchmark message (64 KiB) and the libraries' smallest default (32 KiB).
const maxMessage = 1 << 20

// fanoutTopic is the one topic of the fan-out benchmark.
const fanoutTopic = "fanout"

// compressMode says whether and how a server negotiates permessage-deflate.
type compressMode string

// The compression modes of a server.
const (
	compressOff        compressMode = "off"
	compressTakeover   compressMode = "takeover"
	compressNoTakeover compressMode = "notakeover"
)

// libServer is one library's idiomatic server: an echo endpoint, and for the
// libraries in the fan-out benchmark a subscriber and a publisher endpoint.
type libServer struct {
	echo http.Handler
	// sub and pub are nil for a library without fan-out.
	sub, pub http.Handler
	// chat, when set, serves the chat rooms at /chat.
	chat http.Handler
	// subscribers returns the number of subscribers attached now.
	subscribers func() int
	// serve, when set, serves on the listener in place of net/http's
	// server, for a library that parses HTTP itself.
	serve func(ln net.Listener, handler http.Handler) (stop func(), err error)
}

// newLibServer returns the server of library lib.
func newLibServer(lib string, mode compressMode) (libServer, error) {
	switch lib {
	case "duplex", "duplex-tls":
		return newDuplexServer(mode), nil
	case "duplex-upgrades":
		// Duplex's goroutine mode, its upgrades read by
		// websocket.ServeUpgrades rather than net/http.
		s := newDuplexServer(mode)
		s.serve = func(ln net.Listener, h http.Handler) (func(), error) {
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			go websocket.ServeUpgrades(srv, ln)
			return func() { srv.Close() }, nil
		}
		return s, nil
	case "gorilla":
		return newGorillaServer(mode), nil
	case "coder":
		return newCoderServer(mode), nil
	case "gobwas":
		if mode != compressOff {
			return libServer{}, fmt.Errorf("gobwas server runs without compression only")
		}
		return newGobwasServer(), nil
	case "gws":
		return newGWSServer(mode), nil
	case "duplex-history":
		return newDuplexHistoryServer(os.Getenv(envNATS))
	case "duplex-engine", "nbio":
		if mode != compressOff {
			return libServer{}, fmt.Errorf("%s server runs without compression only", lib)
		}
		if lib == "nbio" {
			return newNbioServer(), nil
		}
		s, err := newDuplexEngineServer()
		s.serve = nil // net/http's server
		return s, err
	case "duplex-engine-accept", "duplex-engine-accept-release":
		// The engine accepting its sockets itself (Engine.ServeUpgrades);
		// from inside a ReleaseListener for -release.
		if mode != compressOff {
			return libServer{}, fmt.Errorf("%s server runs without compression only", lib)
		}
		s, err := newDuplexEngineServer()
		if lib == "duplex-engine-accept-release" {
			accept := s.serve
			s.serve = func(ln net.Listener, h http.Handler) (func(), error) {
				return accept(websocket.NewReleaseListener(ln, nil), h)
			}
		}
		return s, err
	case "duplex-engine-release":
		// Duplex's engine behind a ReleaseListener.
		s, err := newDuplexEngineServer()
		s.serve = func(ln net.Listener, h http.Handler) (func(), error) {
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			go srv.Serve(websocket.NewReleaseListener(ln, nil))
			return func() { srv.Close() }, nil
		}
		return s, err
	case "duplex-engine-upgrades", "duplex-engine-upgrades-release":
		// The engine, its upgrades read by websocket.ServeUpgrades rather
		// than net/http; behind a ReleaseListener for -release.
		s, err := newDuplexEngineServer()
		s.serve = func(ln net.Listener, h http.Handler) (func(), error) {
			if lib == "duplex-engine-upgrades-release" {
				ln = websocket.NewReleaseListener(ln, nil)
			}
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			go websocket.ServeUpgrades(srv, ln)
			return func() { srv.Close() }, nil
		}
		return s, err
	}
	return libServer{}, fmt.Errorf("unknown library %q", lib)
}

// serveChild runs a benchmark server process: it listens on a loopback
// port, writes the address as one line to stdout, and serves until stdin
// reaches EOF (the parent closed it or exited).
func serveChild(lib string, mode compressMode, stdin io.Reader, stdout io.Writer) error {
	s, err := newLibServer(lib, mode)
	if err != nil {
		return err
	}
	profile := func(kind string) string { return "" }
	if dir := os.Getenv(envProfile); dir != "" {
		profile = func(kind string) string {
			return filepath.Join(dir, fmt.Sprintf("%s-%s-%d.%s.pprof", lib, mode, os.Getpid(), kind))
		}
		f, err := os.Create(profile("cpu"))
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		// Waits longer than 10 µs on channels, locks and selects.
		runtime.SetBlockProfileRate(10000)
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	mux := http.NewServeMux()
	mux.Handle("/echo", s.echo)
	mux.Handle("/stream", streamEcho(lib, s))
	mux.HandleFunc("/ctl/heap", serveHeapProfile)
	if s.chat != nil {
		mux.Handle("/chat", s.chat)
	}
	if s.sub != nil {
		mux.Handle("/sub", s.sub)
		mux.Handle("/pub", s.pub)
	}
	mux.HandleFunc("/ctl/stats", func(w http.ResponseWriter, r *http.Request) {
		gc, _ := strconv.ParseBool(r.URL.Query().Get("gc"))
		n := 0
		if s.subscribers != nil {
			n = s.subscribers()
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(readProcStats(gc, n))
	})
	// No TCP keep-alive: Go's default probes every idle connection after
	// 15 s, all of a storm's at once, and on loopback a burst of 10,000
	// probes overflows the backlog (net.core.netdev_max_backlog), so that
	// connections opened together are aborted together some 150 s later.
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	if s.serve != nil {
		stop, err := s.serve(ln, mux)
		if err != nil {
			return err
		}
		defer stop()
	} else {
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		if lib == "duplex-tls" {
			// HTTP/1.1 and HTTP/2 over TLS, WebSockets over both; the
			// parent starts this process with GODEBUG=http2xconnect=1.
			cfg, err := selfSignedTLS()
			if err != nil {
				return err
			}
			ln = tls.NewListener(ln, cfg)
			srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 2000}
		}
		go srv.Serve(ln)
	}
	if _, err := fmt.Fprintln(stdout, ln.Addr().String()); err != nil {
		return err
	}
	// The parent holds our stdin open for as long as we should live.
	if _, err := io.Copy(io.Discard, stdin); err != nil {
		return err
	}
	if name := profile("heap"); name != "" {
		if err := writeProfile("block", profile("block")); err != nil {
			return err
		}
		return writeHeapProfile(name)
	}
	return nil
}

// writeProfile writes the profile called kind to the file name.
func writeProfile(kind, name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(kind).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeHeapProfile writes a heap profile, after a garbage collection, to the
// file name.
func writeHeapProfile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
