package bench

import (
	"net"
	"net/http"
	"runtime"
	"sync"

	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// newNbioServer returns lesismal/nbio's server in its non-blocking mode:
// nbhttp's engine owns the listener and parses HTTP and WebSocket frames on
// its poller goroutines; OnMessage echoes each message. Fan-out, which nbio
// has no facility for, is a loop over the subscribers' connections writing
// each message, under a lock that OnOpen and OnClose take to keep the set.
func newNbioServer() libServer {
	up := websocket.NewUpgrader()
	up.OnMessage(func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
		c.WriteMessage(typ, data)
	})
	var (
		mu   sync.Mutex
		subs = map[*websocket.Conn]struct{}{}
	)
	subUp := websocket.NewUpgrader()
	subUp.OnOpen(func(c *websocket.Conn) {
		mu.Lock()
		subs[c] = struct{}{}
		mu.Unlock()
	})
	subUp.OnClose(func(c *websocket.Conn, _ error) {
		mu.Lock()
		delete(subs, c)
		mu.Unlock()
	})
	pubUp := websocket.NewUpgrader()
	pubUp.OnMessage(func(_ *websocket.Conn, typ websocket.MessageType, data []byte) {
		mu.Lock()
		defer mu.Unlock()
		for c := range subs {
			c.WriteMessage(typ, data)
		}
	})
	upgrade := func(up *websocket.Upgrader) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { up.Upgrade(w, r, nil) })
	}
	return libServer{
		echo: upgrade(up),
		sub:  upgrade(subUp),
		pub:  upgrade(pubUp),
		subscribers: func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(subs)
		},
		serve: serveNbio,
	}
}

// serveNbio serves handler on ln with an nbhttp engine in non-blocking mode.
func serveNbio(ln net.Listener, handler http.Handler) (stop func(), err error) {
	logging.SetLevel(logging.LevelNone) // it logs to stdout, where the address goes
	e := nbhttp.NewEngine(nbhttp.Config{
		Network:                      "tcp",
		Addrs:                        []string{ln.Addr().String()},
		Listen:                       func(string, string) (net.Listener, error) { return ln, nil },
		Handler:                      handler,
		IOMod:                        nbhttp.IOModNonBlocking,
		NPoller:                      runtime.GOMAXPROCS(0),
		MaxLoad:                      1 << 20,
		ReleaseWebsocketPayload:      true,
		MaxWebsocketFramePayloadSize: maxMessage,
	})
	if err := e.Start(); err != nil {
		return nil, err
	}
	return e.Stop, nil
}
