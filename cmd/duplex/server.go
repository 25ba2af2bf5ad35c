package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/linerate"
)

// serverFlags are the flags serve and exec share: where to listen, TLS, the
// WebSocket handshake's options and logging.
type serverFlags struct {
	addr             string
	tlsCert          string
	tlsKey           string
	tlsSelfSigned    bool
	noDeflate        bool
	subprotocols     listFlag
	origins          listFlag
	insecureOrigin   bool
	readLimit        byteSizeFlag
	logFormat        string
	shutdownTimeout  time.Duration
	pingInterval     time.Duration
	trustedProxies   prefixFlag
	clientIPHeader   string
	handshakeTimeout time.Duration
	stallTimeout     time.Duration
	keepStormMemory  bool
	tcpKeepAlive     time.Duration
}

func (f *serverFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "`HOST:PORT` to listen on (port 0 picks a free one)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS/wss with this PEM certificate `file` (with --tls-key)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key `file` of --tls-cert")
	fs.BoolVar(&f.tlsSelfSigned, "tls-self-signed", false, "serve HTTPS/wss with a certificate for localhost made at start-up, written to a file it names for --cacert")
	fs.BoolVar(&f.noDeflate, "no-deflate", false, "refuse permessage-deflate")
	fs.Var(&f.subprotocols, "subprotocols", "subprotocols to negotiate, in order of preference (`a,b`; repeatable)")
	fs.Var(&f.origins, "origin", "Origin host `patterns` (path.Match, e.g. '*.example.com') allowed besides the request's own host; repeatable")
	fs.BoolVar(&f.insecureOrigin, "insecure-origin", false, "accept WebSocket handshakes from any Origin")
	fs.Var(&f.readLimit, "read-limit", "largest message accepted, in `bytes` (64k, 16M...; 0 = 32M, -1 = none)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 5*time.Second, "on SIGINT/SIGTERM, how long to wait for connections to close")
	fs.DurationVar(&f.pingInterval, "ping-interval", defaultPingInterval, "ping every WebSocket this often, closing it (1006) when no pong comes back within as long, "+
		"so that proxies that cut idle connections (nginx and AWS ALB after 60s, Cloudflare after 100s) keep them open (0 = never)")
	fs.Var(&f.trustedProxies, "trusted-proxy", "`CIDR` or address of a reverse proxy whose --client-ip-header names the client: the logs then give the client's "+
		"address instead of the proxy's (repeatable or comma-separated, e.g. 127.0.0.1,10.0.0.0/8; none by default: headers are not believed)")
	fs.StringVar(&f.clientIPHeader, "client-ip-header", "X-Forwarded-For", "the `header` in which the --trusted-proxy hosts give the client's address: X-Forwarded-For or Forwarded (RFC 7239)")
	fs.BoolVar(&f.keepStormMemory, "keep-storm-memory", false,
		"leave the memory a burst of connections' handshakes left to the Go runtime, which returns it over minutes; by default, after 1,000 connections and a second without one, it is returned to the system at once (debug.FreeOSMemory)")
	fs.DurationVar(&f.handshakeTimeout, "handshake-timeout", 10*time.Second,
		"close a TCP connection that has not completed a WebSocket handshake this long after it was accepted (pages and /metrics too)")
	fs.DurationVar(&f.tcpKeepAlive, "tcp-keepalive", 15*time.Second,
		"send TCP keep-alive probes on an idle connection this often, dropping it when its peer's system stops answering (0 = never); WebSocket pings are --ping-interval's")
	fs.DurationVar(&f.stallTimeout, "stall-timeout", defaultStallTimeout,
		"close with 1008 a connection whose client began a message and sent less than 4 KiB of it, and not its end, in this long")
}

// keepAlive returns --tcp-keepalive as net.ListenConfig.KeepAlive and
// websocket.EngineOptions.KeepAlive take it: negative for none.
func (f *serverFlags) keepAlive() time.Duration {
	if f.tcpKeepAlive == 0 {
		return -1
	}
	return f.tcpKeepAlive
}

// defaultPingInterval is serve's and exec's keep-alive interval: well under
// the shortest idle timeout of the usual proxies, 60 seconds, as Socket.IO's
// 25 seconds is.
const defaultPingInterval = 25 * time.Second

// defaultStallTimeout is --stall-timeout's default, and the library's
// (AcceptOptions.StallTimeout's). acceptOptions leaves it to the library
// rather than setting it: a connection whose options are all the library's
// defaults holds no record of them (240 bytes each).
const defaultStallTimeout = 30 * time.Second

// parse parses args with fs, which f registered its flags in, checks f's
// flags and returns the positional arguments (after "--" for exec).
func (f *serverFlags) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := parseFlags(fs, args, false)
	if err != nil {
		return nil, err
	}
	return pos, f.check()
}

func (f *serverFlags) check() error {
	if err := checkAddr(f.addr); err != nil {
		return err
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	if f.tlsSelfSigned && f.tlsCert != "" {
		return usagef("--tls-self-signed and --tls-cert exclude each other")
	}
	if err := checkFlags(positive("shutdown-timeout", f.shutdownTimeout), notNegative("ping-interval", f.pingInterval),
		positive("handshake-timeout", f.handshakeTimeout), positive("stall-timeout", f.stallTimeout),
		notNegative("tcp-keepalive", f.tcpKeepAlive)); err != nil {
		return err
	}
	if err := checkClientIPHeader(f.clientIPHeader); err != nil {
		return err
	}
	return oneOf("log-format", f.logFormat, "text", "json")
}

// acceptOptions returns the handshake options the flags ask for.
func (f *serverFlags) acceptOptions() *websocket.AcceptOptions {
	o := &websocket.AcceptOptions{
		SelectSubprotocol:       f.selectSubprotocol,
		OriginPatterns:          f.origins,
		InsecureSkipOriginCheck: f.insecureOrigin,
		OnRefuse:                refuseHandshake,
		ReadLimit:               int64(f.readLimit),
		PingInterval:            f.pingInterval,
	}
	if f.stallTimeout != defaultStallTimeout {
		o.StallTimeout = f.stallTimeout
	}
	if !f.noDeflate {
		o.Compression = &websocket.CompressionOptions{}
	}
	return o
}

// refuseHandshake answers the handshakes that Accept and legacy.Accept
// refuse (it is their OnRefuse): a forbidden origin, the one refusal of
// status 403, gets a reason that names the flags allowing it, since the
// library's names its Go options, which a user of duplex does not set; any
// other refusal gets the library's reason.
func refuseHandshake(w http.ResponseWriter, r *http.Request, err *websocket.HandshakeError) {
	if err.Status != http.StatusForbidden {
		http.Error(w, err.Reason, err.Status)
		return
	}
	origin := r.Header.Get("Origin")
	if v := r.Header.Get("Sec-WebSocket-Version"); v == "7" || v == "8" {
		origin = r.Header.Get("Sec-WebSocket-Origin") // as Accept reads hybi-07/08
	}
	http.Error(w, fmt.Sprintf("the origin %q is not allowed: its host is not %q and matches no --origin pattern; "+
		"restart duplex with --origin %s to allow it (--insecure-origin allows any)", origin, r.Host, originHost(origin)), http.StatusForbidden)
}

// originHost returns the host of origin for an --origin pattern, or
// HOST when origin is not a URL.
func originHost(origin string) string {
	if u, err := url.Parse(origin); err == nil && u.Host != "" {
		return u.Host
	}
	return "HOST"
}

// logger returns the slog logger of --log-format, writing to env.stderr.
func (f *serverFlags) logger(env *cliEnv) *slog.Logger {
	if f.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(env.stderr, nil))
	}
	return slog.New(slog.NewTextHandler(env.stderr, nil))
}

// serveHTTP listens on f.addr, prints the URL and serves h until ctx is done;
// then it stops accepting, runs onShutdown (if not nil), closes every
// connection of conns with 1001 and waits for them, at most --shutdown-timeout.
// When accepting is not nil, it accepts the plain (not TLS) connections
// itself, onto its pollers (Engine.ServeUpgrades).
func (f *serverFlags) serveHTTP(ctx context.Context, env *cliEnv, log *slog.Logger, h http.Handler, conns *connSet, accepting *websocket.Engine, onShutdown func()) error {
	tlsConf, err := serverTLS(f.tlsCert, f.tlsKey, f.tlsSelfSigned)
	if err != nil {
		return err
	}
	if f.tlsSelfSigned {
		// A client trusts the certificate with duplex connect --cacert FILE,
		// or checks its fingerprint against what a browser shows.
		cert := tlsConf.Certificates[0]
		name, err := writeCertificate(cert)
		if err != nil {
			return fmt.Errorf("writing the self-signed certificate: %w", err)
		}
		defer os.Remove(name)
		fmt.Fprintf(env.stderr, "duplex: self-signed certificate in %s (SHA-256 %s); trust it with duplex connect --cacert %s\n",
			name, fingerprint(cert.Certificate[0]), name)
	}
	lc := net.ListenConfig{KeepAlive: f.keepAlive()}
	tcpLn, err := lc.Listen(ctx, "tcp", f.addr)
	if err != nil {
		return err
	}
	// The guard: at most the process's descriptor limit less headroom
	// open at once, 503 and a close beyond, and no connection kept that
	// has not become a WebSocket within --handshake-timeout.
	wl := websocket.NewListener(tcpLn, &websocket.ListenerOptions{HandshakeTimeout: f.handshakeTimeout})
	conns.setListener(wl)
	var ln net.Listener = wl
	if !f.keepStormMemory {
		// What a storm of handshakes left (net/http's buffers and
		// requests, its goroutines' stacks) goes back to the system once
		// the storm is over, not minutes later.
		ln = websocket.NewReleaseListener(wl, nil)
	}
	scheme := "http"
	if tlsConf != nil {
		// HTTP/2 first; WebSockets come over it as extended CONNECT
		// streams (RFC 8441), which package xconnect turns on.
		tlsConf.NextProtos = []string{"h2", "http/1.1"}
		ln = tls.NewListener(ln, tlsConf)
		scheme = "https"
	}
	srv := &http.Server{
		Handler:           clientAddrHandler(h, f.trustedProxies, f.clientIPHeader),
		ReadHeaderTimeout: 10 * time.Second,
		// A WebSocket handshake needs a few hundred bytes of headers, far
		// below net/http's default of 1 MiB; larger requests get 431.
		MaxHeaderBytes: 64 << 10,
		IdleTimeout:    2 * time.Minute,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ConnContext:    wl.ConnContext, // WebSockets over HTTP/2 claim their connection from the handshake timeout
		// Each WebSocket is a stream: a page may hold many on one
		// connection, each with at most 1 MiB of unread data in flight.
		HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 1000, MaxReceiveBufferPerStream: 1 << 20, MaxReceiveBufferPerConnection: 4<<20 - 1},
	}
	// The one announcement: scripts read it from stdout; the log has no copy.
	fmt.Fprintf(env.stdout, "duplex: listening on %s://%s\n", scheme, ln.Addr())

	served := make(chan error, 1)
	// Upgrades are read by Duplex itself, without net/http's buffers; pages,
	// TLS and HTTP/2 go to srv as before. An engine reads them on its own
	// pollers, with no goroutine while a request is on its way, and serves
	// the WebSockets its handlers give it where they were accepted.
	serve := websocket.ServeUpgrades
	if accepting != nil {
		serve = accepting.ServeUpgrades
	}
	go func() { served <- serve(srv, ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "connections", conns.count())
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
	})
	if onShutdown != nil {
		wg.Go(onShutdown)
	}
	left := conns.shutdown(sctx)
	wg.Wait()
	if left > 0 {
		log.Warn("connections still open after the shutdown timeout", "connections", left)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// connSet tracks the WebSocket connections of a server: it enforces a cap on
// their number and closes them all on shutdown. A connection served by an
// engine costs it nothing but its count: the engine closes its own
// connections on shutdown (a group, see closeGroupOnShutdown), so the set
// keeps a closer only for the connections a goroutine serves, which hold
// far more already (bench/RESULTS.md, "Cold start").
type connSet struct {
	limit int // 0 = no limit

	mu       sync.Mutex
	open     int // slots taken: connections open or in their handshake
	next     uint64
	closers  map[uint64]func() // of the connections a goroutine serves, by track's id
	groups   []func(context.Context)
	closing  bool
	finished chan struct{}     // closed when closing and the last connection leaves
	byProto  map[string]uint64 // connections taken in, by HTTP version (r.Proto)
	refused  map[string]uint64 // handshakes refused with 503, by reason
	ln       *websocket.Listener

	lines linerate.Limiter // of the lines that log refusals (tooBusy)
}

func newConnSet(limit int) *connSet {
	return &connSet{limit: limit, closers: map[uint64]func(){}, finished: make(chan struct{}), byProto: map[string]uint64{}, refused: map[string]uint64{},
		lines: linerate.Limiter{PerSecond: refusalLinesPerSecond}}
}

// enter takes a slot for the connection that r asks for, counting it under
// r's HTTP version; leave frees it. ok is false when the set is full or
// shutting down; the caller then answers 503.
func (s *connSet) enter(r *http.Request) (ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		s.refused[refusedShuttingDown]++
		return false
	}
	if s.limit > 0 && s.open >= s.limit {
		s.refused[refusedMaxConns]++
		return false
	}
	s.byProto[r.Proto]++
	s.open++
	return true
}

// Reasons of refusal that /metrics counts.
const (
	refusedMaxConns         = "max_conns"         // over --max-conns: 503
	refusedShuttingDown     = "shutting_down"     // after SIGINT/SIGTERM: 503
	refusedDescriptors      = "descriptors"       // the listener's bound, near the descriptor limit: 503
	refusedHandshakeTimeout = "handshake_timeout" // no WebSocket handshake within --handshake-timeout: closed
)

// refusalLinesPerSecond bounds the lines tooBusy logs.
const refusalLinesPerSecond = 10

// setListener makes ln the listener whose refusals refusals counts.
func (s *connSet) setListener(ln *websocket.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ln = ln
}

// refusals returns the connections refused, by reason.
func (s *connSet) refusals() map[string]uint64 {
	s.mu.Lock()
	m := maps.Clone(s.refused)
	ln := s.ln
	s.mu.Unlock()
	if ln != nil {
		st := ln.Stats()
		m[refusedDescriptors] = st.Refused
		m[refusedHandshakeTimeout] = st.HandshakeTimeouts
	}
	return m
}

// track registers how to close, on shutdown (with 1001), a connection that
// a goroutine serves, and returns the id untrack takes. If the shutdown has
// already begun, close runs at once.
func (s *connSet) track(close func()) uint64 {
	s.mu.Lock()
	s.next++
	id := s.next
	s.closers[id] = close
	closing := s.closing
	s.mu.Unlock()
	if closing {
		go close()
	}
	return id
}

// untrack forgets the closer of connection id.
func (s *connSet) untrack(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.closers, id)
}

// closeGroupOnShutdown registers shut, which closes a whole group of
// connections (an engine's, with 1001) and may wait for them until its
// context ends, to run when the shutdown begins.
func (s *connSet) closeGroupOnShutdown(shut func(context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups = append(s.groups, shut)
}

// leave frees a slot that enter took.
func (s *connSet) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open--
	if s.closing && s.open == 0 {
		close(s.finished)
	}
}

// taken returns how many connections came over each HTTP version.
func (s *connSet) taken() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.byProto)
}

func (s *connSet) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
}

// shutdown refuses new connections, closes every open one (its groups',
// and those tracked) and waits for them to leave or ctx to end; it returns
// how many are still open.
func (s *connSet) shutdown(ctx context.Context) int {
	s.mu.Lock()
	s.closing = true
	if s.open == 0 {
		close(s.finished)
	}
	closers := slices.Collect(maps.Values(s.closers))
	groups := slices.Clone(s.groups)
	s.mu.Unlock()
	for _, shut := range groups {
		go shut(ctx)
	}
	for _, c := range closers {
		go c()
	}
	select {
	case <-s.finished:
	case <-ctx.Done():
	}
	return s.count()
}

// tooBusy answers a handshake that went over a connection cap. It logs
// one line per refusal, at most refusalLinesPerSecond a second: a storm of
// clients costs a few lines a second, the next line counting those left
// out.
func (s *connSet) tooBusy(w http.ResponseWriter, log *slog.Logger, r *http.Request, what string) {
	if ok, suppressed := s.lines.Allow(time.Now()); ok {
		args := []any{"remote", r.RemoteAddr, "path", r.URL.Path}
		if suppressed > 0 {
			args = append(args, "suppressed", suppressed)
		}
		log.Warn("refused: "+what, args...)
	}
	w.Header().Set("Retry-After", "1")
	// The client goes away with its answer: a refused connection that
	// stayed open for keep-alive would hold a descriptor for nothing.
	w.Header().Set("Connection", "close")
	http.Error(w, "503 service unavailable: "+what, http.StatusServiceUnavailable)
}

// selectSubprotocol is the handshakes' AcceptOptions.SelectSubprotocol:
// the first subprotocol the client offered that --subprotocols lists. The
// CLI contract goes by the client's order of preference, where
// AcceptOptions.Subprotocols goes by the server's.
func (f *serverFlags) selectSubprotocol(_ *http.Request, offered []string) string {
	for _, p := range offered {
		if slices.Contains(f.subprotocols, p) {
			return p
		}
	}
	return ""
}
