package websocket

import (
	"net/http"
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
			wshttp.Logf(r, "websocket: Accept: invalid AcceptOptions.Compression, serving without compression: %v", err)
			return
		}
		o.compCheck.valid = o.Compression
	})
	return o.compCheck.valid
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
	var origin string
	var rf *wshttp.Refusal
	if r.ProtoMajor == 2 {
		origin, rf = r.Header.Get("Origin"), wshttp.CheckExtendedConnect(r)
	} else {
		_, origin, rf = wshttp.CheckUpgrade(r, opts.LegacyVersions)
	}
	herr := refused(rf)
	var cfg connConfig
	var srv *Server
	if herr == nil {
		cfg, srv, herr = opts.negotiate(r, origin)
	}
	if herr != nil {
		refuse(w, r, herr, opts)
		return nil, herr
	}

	var br connReader
	if r.ProtoMajor == 2 {
		sc, rf := wshttp.AcceptStream(w, r, cfg.subprotocol, cfg.extensions, opts.ResponseHeader)
		if rf != nil {
			return nil, refused(rf)
		}
		wsconn.Claim(sc, r.Context())
		br = newConnReader(sc, opts.ReadBufferSize)
	} else {
		nc, after, err := wshttp.Switch(w, r, cfg.subprotocol, cfg.extensions, opts.ResponseHeader)
		if err != nil {
			return nil, handshakeError(err)
		}
		wsconn.Claim(nc, r.Context())
		br = newConnReaderFrom(nc, after, opts.ReadBufferSize)
	}
	c := newConn(br, false, cfg)
	if srv != nil {
		srv.add(c, r)
	}
	return c, nil
}

// refused gives a refusal of the handshake's HTTP side the public type;
// nil stays nil.
func refused(rf *wshttp.Refusal) *HandshakeError {
	if rf == nil {
		return nil
	}
	return &HandshakeError{Status: rf.Status, Reason: rf.Reason}
}

// handshakeError is err, or the *HandshakeError of the refusal err is.
func handshakeError(err error) error {
	if rf, ok := err.(*wshttp.Refusal); ok {
		return refused(rf)
	}
	return err
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
		if rf := wshttp.AllowOrigin(r, origin, o.OriginPatterns, o.CheckOrigin); rf != nil {
			return connConfig{}, nil, refused(rf)
		}
	}
	subprotocol, rf := wshttp.ChooseSubprotocol(r, o.Subprotocols, o.SelectSubprotocol)
	if rf != nil {
		return connConfig{}, nil, refused(rf)
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

// IsWebSocketUpgrade reports whether r asks for a WebSocket: an HTTP/1.1
// request with the tokens Connection: upgrade and Upgrade: websocket, or
// an HTTP/2 extended CONNECT for the websocket protocol (RFC 8441). A
// handler that serves a page and a WebSocket on one path calls it to
// choose; it checks nothing else, and [Accept] still refuses a request
// that is wrong in other ways. As gorilla's IsWebSocketUpgrade.
func IsWebSocketUpgrade(r *http.Request) bool { return wshttp.IsUpgrade(r) }

// refuse answers a request that cannot be upgraded, over either HTTP
// version, with the headers its status calls for (see
// [wshttp.SetRefusalHeaders]): by OnRefuse when set, else in plain text.
func refuse(w http.ResponseWriter, r *http.Request, herr *HandshakeError, opts *AcceptOptions) {
	wshttp.SetRefusalHeaders(w.Header(), r, herr.Status, opts.LegacyVersions)
	if opts.OnRefuse != nil {
		opts.OnRefuse(w, r, herr)
		return
	}
	http.Error(w, herr.Reason, herr.Status)
}
