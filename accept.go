package websocket

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duplexws/websocket/internal/wsconn"
	"github.com/duplexws/websocket/internal/wshttp"
)

// AcceptOptions configures Accept. The zero value, like a nil pointer, gives
// the defaults each field names. Any number of Accept calls may share one
// AcceptOptions; it must not be copied after its first use (it holds the
// result of checking Compression, made by the first Accept), as an
// [http.Server] must not.
type AcceptOptions struct {
	// Subprotocols lists the subprotocols the server speaks, in order of
	// preference; the first one the client also offered is chosen. None by default.
	Subprotocols []string

	// SelectSubprotocol, when set, chooses the subprotocol instead of
	// Subprotocols, from the request and the subprotocols the client offered
	// (in its order; offered is empty when it offered none): it returns one of
	// offered, or "" for none. A name the client did not offer fails the
	// handshake with 500 (RFC 6455 §4.2.2: the server picks one of the
	// client's). As gorilla's Subprotocols(r), it lets the choice depend on
	// the request (path, a token). Nil by default.
	SelectSubprotocol func(r *http.Request, offered []string) string

	// OriginPatterns lists the hosts, besides the request's own, whose pages
	// may connect: patterns as path.Match takes them, matched against the
	// Origin's host ("example.com", "*.example.com") or, when a pattern holds
	// "://", against scheme and host. By default only same-host pages may.
	OriginPatterns []string

	// InsecureSkipOriginCheck accepts connections from pages of any origin.
	// Only for servers that authenticate without cookies or other ambient
	// credentials: otherwise any site can act as its visitors. Off by default.
	InsecureSkipOriginCheck bool

	// CheckOrigin, when set, is asked about the requests whose Origin the
	// rules above refuse (neither the request's host nor one of
	// OriginPatterns): it returns true to accept the request, as gorilla's
	// Upgrader.CheckOrigin. Requests without an Origin, and same-host and
	// OriginPatterns origins, are accepted without asking it. Nil, the
	// default, refuses the others with 403.
	CheckOrigin func(r *http.Request) bool

	// OnRefuse, when set, answers the requests Accept refuses instead of
	// the default plain-text answer: it is given err, whose Status is the
	// status to answer and Reason the explanation, with the headers that
	// status calls for (Allow, Sec-WebSocket-Version) already set on w. It
	// must write the answer; Accept then returns err, as without it. As
	// gorilla's Upgrader.Error. Nil by default.
	OnRefuse func(w http.ResponseWriter, r *http.Request, err *HandshakeError)

	// ResponseHeader holds extra headers for the 101 response, such as
	// Set-Cookie. None by default.
	ResponseHeader http.Header

	// Compression enables permessage-deflate (RFC 7692) when the client
	// offers it. Nil, the default, turns compression off. Invalid options
	// (a window of other than 0 or 8 to 15 bits, a Level outside 0..9, a
	// Threshold below -1) turn it off too: a server may always decline the
	// extension, so Accept serves every connection without it (answering
	// no Sec-WebSocket-Extensions) and reports the problem once, to the
	// ErrorLog of the request's [http.Server] or, when it has none, to the
	// log package's standard logger, as net/http reports its own errors.
	// The first Accept with these options checks Compression; a change made
	// to it afterwards is not seen.
	Compression *CompressionOptions

	// ReadLimit is the largest message accepted, in bytes after
	// decompression: 32 MiB when zero, no limit when negative. It can be
	// changed later with [Conn.SetReadLimit].
	ReadLimit int64

	// ReadBufferSize is the size of the connection's read buffer: 4096 when
	// zero, at most 1 GiB.
	ReadBufferSize int

	// WriteBufferSize is the frame size of messages written through Writer:
	// 4096 when zero. Buffers are borrowed per message, not held per connection.
	WriteBufferSize int

	// PingInterval, when positive, makes the connection ping the client at
	// that interval and close it when no pong arrives within PingTimeout
	// (PingInterval when zero). Pongs are seen only while the connection is
	// being read (Read, Reader, CloseRead or an Engine). Off by default.
	// Between pings a connection holds a timer, and no goroutine.
	//
	// Turn it on when a proxy or load balancer stands between the server and
	// its clients: they cut a connection that carries nothing for a while,
	// without a close frame (the client sees 1006), and browsers never ping.
	// nginx's proxy_read_timeout and AWS ALB's idle timeout are 60 seconds
	// by default, Cloudflare's 100 seconds, haproxy's timeout tunnel (or
	// client and server) what its configuration says; an interval well
	// under the shortest, such as 25 seconds, keeps such connections open.
	// It also finds clients that vanished without closing (a laptop shut,
	// a network gone), which a server that only waits would keep forever.
	PingInterval time.Duration
	PingTimeout  time.Duration

	// CloseTimeout bounds each wait of the closing handshake: 5 seconds when zero.
	CloseTimeout time.Duration

	// StallTimeout reclaims connections whose client begins a message and
	// does not go on with it: while the connection waits for the rest of a
	// message (or, on an Engine, of a frame that has begun to arrive),
	// the client must send 4 KiB of it, or its end, every StallTimeout, or
	// the connection fails with [StatusPolicyViolation] (1008). A client
	// that sends half a message and goes silent, or dribbles a frame a
	// byte at a time, is closed within two timeouts; time the server takes
	// between two reads of a message never counts. 30 seconds when zero;
	// negative turns it off. A connection waiting for its next message is
	// idle, not stalled: see [EngineOptions.IdleTimeout] or a read context.
	StallTimeout time.Duration

	// OnPing, when set, is called with the payload of each ping the client
	// sends, and OnPong with that of each pong, from the goroutine reading
	// the connection (Read, Reader, CloseRead or an Engine) before it goes
	// on; the pong that answers a ping is sent all the same. The payload is
	// valid only during the call. None by default.
	OnPing func(payload []byte)
	OnPong func(payload []byte)

	// OnPingConn and OnPongConn are OnPing and OnPong given the connection
	// too, for hooks shared by many connections that act on the one that
	// read the frame (extend its read deadline, count its pongs). When a
	// hook and its Conn form are both set, both are called, the former
	// first. None by default.
	OnPingConn func(c *Conn, payload []byte)
	OnPongConn func(c *Conn, payload []byte)

	// LegacyVersions lists pre-RFC 6455 protocol versions to accept besides
	// 13: 7 (hybi-07) and 8 (hybi-08 to hybi-12), which frame messages as
	// RFC 6455 does and send the origin as Sec-WebSocket-Origin. None by
	// default. For hixie-76, see package legacy.
	LegacyVersions []int

	compCheck compressionCheck // Compression as the first Accept checked it
}

// compressionCheck is the result of checking AcceptOptions.Compression,
// made once per AcceptOptions by the first Accept.
type compressionCheck struct {
	once  sync.Once
	valid *CompressionOptions // Compression, or nil when it is invalid
}

// compression returns the compression options Accept negotiates with:
// o.Compression, or nil when it is invalid. The first call checks them and
// reports invalid options through r's server's log.
func (o *AcceptOptions) compression(r *http.Request) *CompressionOptions {
	o.compCheck.once.Do(func() {
		if o.Compression == nil {
			return
		}
		if err := o.Compression.validate(); err != nil {
			logf(r, "websocket: Accept: invalid AcceptOptions.Compression, serving without compression: %v", err)
			return
		}
		o.compCheck.valid = o.Compression
	})
	return o.compCheck.valid
}

// logf reports a problem of a server's set-up as net/http reports its
// own: to the ErrorLog of r's [http.Server], or to the log package's
// standard logger when it has none.
func logf(r *http.Request, format string, args ...any) {
	if s, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// Accept upgrades an HTTP request to a WebSocket connection (RFC 6455 §4.2).
// It checks the request (GET over HTTP/1.1 or later, Upgrade and Connection
// tokens, one Sec-WebSocket-Key of 16 bytes, one supported
// Sec-WebSocket-Version, at most one Origin and that one allowed),
// negotiates the subprotocol and extensions, and answers 101. When the
// request is unacceptable it answers it with 400, 403, 405 or 426 (503 once
// the request's [Server] is shutting down) and a plain-text body saying why,
// and returns a *HandshakeError; the handler must not write to w after that.
//
// The connection outlives the handler: a server holding many idle
// connections can serve each from its own goroutine and return from the
// handler, which lets net/http release the request's buffers. A connection
// waiting for a message then holds no read buffer either.
//
// Over HTTP/2, Accept serves the extended CONNECT of RFC 8441 with the same
// options and checks (no Sec-WebSocket-Key is involved), answers 200, and the
// connection is that request's stream: it ends when the handler returns, so
// the handler must keep running until the connection closes. Close and
// CloseNow return once no write of another goroutine is under way on the
// stream (those that follow fail), so `defer c.CloseNow()` in the handler
// makes its return safe whoever ended the connection. net/http offers
// extended CONNECT only when the process starts with GODEBUG=http2xconnect=1
// (or imports package xconnect); without it, browsers open their WebSockets
// over HTTP/1.1 and an HTTP/2 request to a WebSocket endpoint gets a 405 that
// says so.
func Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*Conn, error) {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	if r.ProtoMajor == 2 {
		return acceptHTTP2(w, r, opts)
	}
	version, herr := checkUpgradeRequest(r, opts)
	var cfg connConfig
	var srv *Server
	if herr == nil {
		origin := r.Header.Get("Origin")
		if version < 13 {
			origin = r.Header.Get("Sec-WebSocket-Origin")
		}
		cfg, srv, herr = opts.negotiate(r, origin)
	}
	if herr != nil {
		refuse(w, r, herr, opts)
		return nil, herr
	}

	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		herr := &HandshakeError{Status: http.StatusInternalServerError, Reason: "cannot take over the connection: " + err.Error()}
		http.Error(w, herr.Reason, herr.Status)
		return nil, herr
	}
	nc.SetDeadline(time.Time{})

	var resp strings.Builder
	resp.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	resp.WriteString(acceptKey(r.Header.Get("Sec-WebSocket-Key")))
	resp.WriteString("\r\n")
	if cfg.subprotocol != "" {
		resp.WriteString("Sec-WebSocket-Protocol: " + cfg.subprotocol + "\r\n")
	}
	if cfg.extensions != "" {
		resp.WriteString("Sec-WebSocket-Extensions: " + cfg.extensions + "\r\n")
	}
	for k, vs := range opts.ResponseHeader {
		for _, v := range vs {
			resp.WriteString(k + ": " + strings.NewReplacer("\r", " ", "\n", " ").Replace(v) + "\r\n")
		}
	}
	resp.WriteString("\r\n")
	if _, err := brw.Writer.WriteString(resp.String()); err == nil {
		err = brw.Writer.Flush()
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("websocket: writing the handshake response: %w", err)
	}

	wsconn.Claim(nc, r.Context())
	br := newConnReaderFrom(nc, brw.Reader, opts.ReadBufferSize)
	releaseHijacked(brw)
	return accepted(nc, br, cfg, srv, r), nil
}

// negotiate runs what accepting a WebSocket asks over HTTP/1.1 and HTTP/2
// alike (RFC 8441 §5: Origin and the Sec-WebSocket-* fields mean there what
// they mean in RFC 6455), once the request passed the checks of its HTTP
// version: it checks origin (the request's Origin, or hybi's
// Sec-WebSocket-Origin) and that the request's [Server] is not shutting
// down, then agrees on the subprotocol and permessage-deflate. It returns
// the connection's configuration and the request's Server, if any.
func (o *AcceptOptions) negotiate(r *http.Request, origin string) (connConfig, *Server, *HandshakeError) {
	if !o.InsecureSkipOriginCheck {
		if err := wshttp.CheckOrigin(origin, r.Host, o.OriginPatterns); err != nil && (o.CheckOrigin == nil || !o.CheckOrigin(r)) {
			reason := err.Error()
			if o.CheckOrigin != nil {
				reason = fmt.Sprintf("the origin %q is not allowed", origin)
			}
			return connConfig{}, nil, &HandshakeError{Status: http.StatusForbidden, Reason: reason}
		}
	}
	subprotocol := selectSubprotocol(r.Header, o.Subprotocols)
	if o.SelectSubprotocol != nil {
		offered := wshttp.Tokens(r.Header, "Sec-WebSocket-Protocol")
		subprotocol = o.SelectSubprotocol(r, offered)
		if subprotocol != "" && !slices.Contains(offered, subprotocol) {
			return connConfig{}, nil, &HandshakeError{Status: http.StatusInternalServerError,
				Reason: fmt.Sprintf("AcceptOptions.SelectSubprotocol chose %q, which the client did not offer", subprotocol)}
		}
	}
	srv := serverOf(r)
	if srv != nil && srv.shuttingDown() {
		return connConfig{}, nil, &HandshakeError{Status: http.StatusServiceUnavailable, Reason: "the server is shutting down"}
	}
	compression := o.compression(r)
	comp, extensions := acceptCompression(r.Header, compression)
	return connConfig{
		readLimit:       o.ReadLimit,
		writeBufferSize: o.WriteBufferSize,
		pingInterval:    o.PingInterval,
		pingTimeout:     o.PingTimeout,
		closeTimeout:    o.CloseTimeout,
		stallTimeout:    o.StallTimeout,
		onPing:          o.OnPing,
		onPong:          o.OnPong,
		onPingConn:      o.OnPingConn,
		onPongConn:      o.OnPongConn,
		subprotocol:     subprotocol,
		extensions:      extensions,
		comp:            comp,
		compression:     compression,
	}, srv, nil
}

// accepted makes the server's connection over nc, read through br, once
// the handshake's answer went out; srv, when not nil, tracks it for its
// shutdown.
func accepted(nc net.Conn, br connReader, cfg connConfig, srv *Server, r *http.Request) *Conn {
	c := newConn(br, false, cfg)
	if srv != nil {
		srv.add(c, r)
	}
	return c
}

// IsWebSocketUpgrade reports whether r asks for a WebSocket: an HTTP/1.1
// request with the tokens Connection: upgrade and Upgrade: websocket, or
// an HTTP/2 extended CONNECT for the websocket protocol (RFC 8441). A
// handler that serves a page and a WebSocket on one path calls it to
// choose; it checks nothing else, and [Accept] still refuses a request
// that is wrong in other ways. As gorilla's IsWebSocketUpgrade.
func IsWebSocketUpgrade(r *http.Request) bool {
	if r.ProtoMajor == 2 {
		return r.Method == http.MethodConnect && strings.EqualFold(r.Header.Get(":protocol"), "websocket")
	}
	return wshttp.HasToken(r.Header, "Connection", "upgrade") && wshttp.HasToken(r.Header, "Upgrade", "websocket")
}

// checkUpgradeRequest checks an opening handshake request (RFC 6455 §4.2.1)
// and returns its protocol version.
func checkUpgradeRequest(r *http.Request, opts *AcceptOptions) (int, *HandshakeError) {
	bad := func(format string, args ...any) *HandshakeError {
		return &HandshakeError{Status: http.StatusBadRequest, Reason: fmt.Sprintf(format, args...)}
	}
	if r.Method != http.MethodGet {
		return 0, &HandshakeError{Status: http.StatusMethodNotAllowed, Reason: fmt.Sprintf("method %s is not GET", r.Method)}
	}
	if !r.ProtoAtLeast(1, 1) {
		return 0, bad("protocol %s is older than HTTP/1.1", r.Proto)
	}
	// RFC 6455 §11.3.1 and §11.3.5 (RFC 6454 §7 for Origin): these appear
	// at most once. A second copy is refused, not ignored: which one a proxy
	// in between would have honoured is anyone's guess.
	if name := wshttp.Repeated(r.Header, "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Origin", "Sec-WebSocket-Origin"); name != "" {
		return 0, bad("%s appears more than once; RFC 6455 allows one", name)
	}
	if !wshttp.HasToken(r.Header, "Connection", "upgrade") {
		return 0, bad("Connection header %q does not contain the token upgrade", r.Header.Get("Connection"))
	}
	if !wshttp.HasToken(r.Header, "Upgrade", "websocket") {
		return 0, bad("Upgrade header %q does not contain the token websocket", r.Header.Get("Upgrade"))
	}
	vs := r.Header.Get("Sec-WebSocket-Version")
	version, err := strconv.Atoi(vs)
	if err != nil || (version != 13 && !slices.Contains(opts.LegacyVersions, version)) {
		return 0, &HandshakeError{Status: http.StatusUpgradeRequired, Reason: fmt.Sprintf("unsupported Sec-WebSocket-Version %q; this server speaks %s", vs, supportedVersions(opts))}
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 16 {
		return 0, bad("Sec-WebSocket-Key %q is not 16 bytes in base64", key)
	}
	return version, nil
}

// supportedVersions lists the versions a server accepts, newest first.
func supportedVersions(opts *AcceptOptions) string {
	vs := []string{"13"}
	for _, v := range []int{8, 7} {
		if slices.Contains(opts.LegacyVersions, v) {
			vs = append(vs, strconv.Itoa(v))
		}
	}
	return strings.Join(vs, ", ")
}

// refuse answers a request that cannot be upgraded, over either HTTP
// version, with the headers its status calls for: Allow with a 405, and the
// versions the server speaks with a 426 (RFC 6455 §4.4) or, over HTTP/2
// (which has no 426), with a 400.
func refuse(w http.ResponseWriter, r *http.Request, herr *HandshakeError, opts *AcceptOptions) {
	h := w.Header()
	switch {
	case herr.Status == http.StatusMethodNotAllowed && r.ProtoMajor == 2:
		h.Set("Allow", http.MethodConnect)
	case herr.Status == http.StatusMethodNotAllowed:
		h.Set("Allow", http.MethodGet)
	case herr.Status == http.StatusUpgradeRequired:
		h.Set("Sec-WebSocket-Version", supportedVersions(opts))
	case herr.Status == http.StatusBadRequest && r.ProtoMajor == 2:
		h.Set("Sec-WebSocket-Version", "13")
	case herr.Status == http.StatusServiceUnavailable && r.ProtoMajor == 1:
		// A refused client should not keep its connection: net/http closes
		// it once the answer is out.
		h.Set("Connection", "close")
	}
	if opts.OnRefuse != nil {
		opts.OnRefuse(w, r, herr)
		return
	}
	http.Error(w, herr.Reason, herr.Status)
}

// selectSubprotocol returns the first of the server's subprotocols the client offered.
func selectSubprotocol(h http.Header, supported []string) string {
	offered := wshttp.Tokens(h, "Sec-WebSocket-Protocol")
	for _, s := range supported {
		if slices.Contains(offered, s) {
			return s
		}
	}
	return ""
}

// releaseHijacked lets go of the buffers net/http hands over with a hijacked
// connection, once their content has been taken over. The server keeps them
// reachable until the handler returns, which for a WebSocket handler is the
// connection's whole life: 8 KiB per connection that Duplex does not use.
// Anything that still reads or writes through them gets http.ErrHijacked.
func releaseHijacked(brw *bufio.ReadWriter) {
	*brw.Reader = *bufio.NewReaderSize(hijacked{}, 16)
	*brw.Writer = *bufio.NewWriterSize(hijacked{}, 16)
}

// hijacked stands in for a connection that was taken over.
type hijacked struct{}

func (hijacked) Read([]byte) (int, error)  { return 0, http.ErrHijacked }
func (hijacked) Write([]byte) (int, error) { return 0, http.ErrHijacked }
