package websocket

import (
	"net"
	"net/http"

	"github.com/duplexws/websocket/internal/wshttp"
)

// ServeUpgrades accepts connections on ln and serves them with srv, as
// srv.Serve(ln) does, except that Duplex reads each plain (not TLS)
// connection's first request itself, into a pooled 4 KiB buffer. A
// WebSocket upgrade (GET, HTTP/1.1, Upgrade: websocket, no body, every
// header field well formed, the whole request within 4 KiB and within
// srv.MaxHeaderBytes) goes straight to srv.Handler, with a request and a
// ResponseWriter that [Accept] takes over without the two 4 KiB buffers
// and the per-connection state net/http gives every connection. Every other connection, TLS included, goes to srv, the
// bytes read to decide replayed, and is served as srv.Serve would: pages,
// keep-alive, HTTP/2, and upgrades that did not fit. Such an upgrade
// comes over a connection that replays those bytes, whose socket an
// [Engine] cannot take over: it serves it with a goroutine of its own.
//
// It is an opt-in for servers that meet storms of WebSocket handshakes,
// which then leave less garbage behind (bench/RESULTS.md, "Cold start").
// An [Engine] takes these connections' sockets over as it does
// net/http's, and a [Listener] as ln still guards them; an Engine's own
// [Engine.ServeUpgrades] goes further, accepting the sockets onto its
// pollers so that there is nothing to take over.
//
// What srv's handler sees differs from net/http only where an upgrade does
// not need it. The request has no body, its context ends when the handler
// returns, and carries http.ServerContextKey, http.LocalAddrContextKey and
// what srv.BaseContext and srv.ConnContext add. The ResponseWriter can be
// hijacked; it has no Flush. A handler that answers without hijacking (a
// refused handshake) has its response written once it returns, with
// Connection: close. srv.ReadHeaderTimeout (else srv.ReadTimeout) bounds
// the wait for the request; srv.ConnState hears of the connections
// ServeUpgrades serves from the moment their request has been read; a
// panic in the handler is logged to srv.ErrorLog and closes the
// connection, as in net/http.
//
// ServeUpgrades returns [http.ErrServerClosed] after srv.Shutdown or
// srv.Close, which close ln, or the error that ended ln.
func ServeUpgrades(srv *http.Server, ln net.Listener) error {
	return wshttp.ServeUpgrades(srv, ln)
}
