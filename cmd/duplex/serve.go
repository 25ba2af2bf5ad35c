package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
	"github.com/duplexws/websocket/hub/natsbroker"
	"github.com/duplexws/websocket/internal/chat"
	"github.com/duplexws/websocket/legacy"
	"github.com/duplexws/websocket/web"
)

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "serve", "[flags]",
		"Serve WebSockets for trying things out:\n"+
			"  /echo             echoes every message with its type (permessage-deflate when offered)\n"+
			"  /                 a chat page that uses /chat\n"+
			"  /chat?room=NAME   every message a client sends goes to all clients of the room\n"+
			"                    (on every server sharing the --broker); with --history, a client\n"+
			"                    offering the subprotocol "+chat.Subprotocol+" gets each message with its\n"+
			"                    position and resumes with &since=EPOCH:SEQ\n"+
			"  /metrics          counters in the Prometheus text format\n"+
			"With TLS (--tls-self-signed or --tls-cert) it serves HTTP/2 as well as HTTP/1.1, and\n"+
			"WebSockets over both: browsers open them as streams of their HTTP/2 connection\n"+
			"(RFC 8441 extended CONNECT). Each connection is logged with the protocol it came over.\n"+
			"It prints the URL it listens on; on SIGINT or SIGTERM it closes every connection\n"+
			"with 1001 (going away), waits at most --shutdown-timeout and exits 0.")
	var sf serverFlags
	sf.register(fs)
	legacyOn := fs.Bool("legacy", false, "/echo also accepts the old protocols: hybi-07/08 (Sec-WebSocket-Version 7 and 8) and hixie-76")
	maxConns := fs.Int("max-conns", 0, "most WebSocket connections at once; handshakes beyond get 503 (0 = no limit)")
	idle := fs.Duration("idle-timeout", 0, "close an echo connection with 1001 after this long without a message (0 = never)")
	engine := fs.Bool("engine", runtime.GOOS == "linux", "serve /echo and /chat with the event-driven engine, which accepts plain connections onto its pollers and holds no goroutine per idle connection nor per handshake on its way (epoll; TLS, HTTP/2 and hixie-76 connections keep a goroutine each); --engine=false gives every connection a goroutine")
	broker := fs.String("broker", "", "NATS server `URL` (nats://HOST:PORT, or a comma list) to share chat rooms with other servers")
	var hf historyFlags
	hf.register(fs)
	pos, err := sf.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if err := checkFlags(append(hf.check(), notNegative("max-conns", *maxConns), notNegative("idle-timeout", *idle))...); err != nil {
		return err
	}
	if err := checkBrokerURL(*broker); err != nil {
		return err
	}
	log := sf.logger(env)
	h, err := newHub(ctx, *broker, &hf, log)
	if err != nil {
		return err
	}
	conns := newConnSet(*maxConns)
	echoOpts := sf.acceptOptions()
	if *legacyOn {
		echoOpts.LegacyVersions = []int{7, 8}
	}
	eh := &echoHandler{opts: echoOpts, idle: *idle, conns: conns, stats: &echoStats{}, log: log}
	if *legacyOn {
		eh.legacyOpts = &legacy.AcceptOptions{
			Subprotocols: sf.subprotocols, OriginPatterns: sf.origins,
			InsecureSkipOriginCheck: sf.insecureOrigin, ReadLimit: int64(sf.readLimit),
			OnRefuse: refuseHandshake,
		}
	}
	if *engine {
		if err := eh.newEchoEngine(sf.keepAlive()); err != nil {
			return err
		}
		defer eh.engine.Close()
	}
	chatOpts := sf.acceptOptions()
	chatOpts.SelectSubprotocol = nil // the chat speaks none
	chatOpts.OnRefuse = func(w http.ResponseWriter, r *http.Request, err *websocket.HandshakeError) {
		log.Info("chat join refused", "remote", r.RemoteAddr, "proto", r.Proto, "reason", err.Reason)
		refuseHandshake(w, r, err)
	}
	if chatOpts.ReadLimit == 0 {
		chatOpts.ReadLimit = chat.DefaultReadLimit
	}
	ch := &chatHandler{next: chat.Handler(h, chatOpts), conns: conns, log: log}
	// Closing the hub closes every chat client with 1001; in engine mode
	// the chat server does, its clients having no goroutine that waits.
	shutdown := func() { h.Close() }
	if *engine {
		es, err := chat.NewEngineServer(h, chatOpts)
		if err != nil {
			return err
		}
		ch.engine = es
		shutdown = func() {
			h.Close()
			es.Close()
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/echo", eh)
	mux.Handle("/chat", ch)
	mux.Handle("/metrics", &metricsHandler{start: time.Now(), echo: eh.stats, conns: conns, hub: h})
	mux.Handle("/", web.Handler())
	err = sf.serveHTTP(ctx, env, log, mux, conns, eh.engine, shutdown)
	shutdown()
	return err
}

// checkBrokerURL checks the --broker value: empty, or NATS URLs.
func checkBrokerURL(list string) error {
	if list == "" {
		return nil
	}
	for _, s := range strings.Split(list, ",") {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			return usagef("bad --broker %q: want nats://HOST:PORT", s)
		}
	}
	return nil
}

// newHub makes the hub of the chat rooms: in-process, or spanning the
// servers that share the NATS broker at brokerURL.
func newHub(ctx context.Context, brokerURL string, hf *historyFlags, log *slog.Logger) (*hub.Hub, error) {
	opts := &hub.Options{Logger: log, History: hf.hubOptions()}
	if brokerURL != "" {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		b, err := natsbroker.Connect(cctx, brokerURL, &natsbroker.Options{Logger: log, History: hf.brokerOptions()})
		cancel()
		if err != nil {
			return nil, err
		}
		opts.Broker = b
	}
	return hub.New(opts), nil
}

// chatHandler counts /chat connections against --max-conns.
type chatHandler struct {
	next   http.Handler
	engine *chat.EngineServer // serves the clients instead of next when set
	conns  *connSet
	log    *slog.Logger
}

func (h *chatHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	room := r.URL.Query().Get("room")
	if err := chat.CheckRoom(room); err != nil {
		reason := "no room: join with /chat?room=NAME"
		if room != "" {
			reason = fmt.Sprintf("bad room name %q: 1 to %d letters, digits, '-' or '_'", room, chat.MaxRoomLen)
		}
		h.log.Info("chat join refused", "remote", r.RemoteAddr, "proto", r.Proto, "reason", reason)
		http.Error(w, reason, http.StatusBadRequest)
		return
	}
	if !h.conns.enter(r) {
		h.conns.tooBusy(w, h.log, r, "too many connections")
		return
	}
	h.log.Info("chat connection", "remote", r.RemoteAddr, "proto", r.Proto, "room", room)
	if h.engine != nil {
		// The handler returns once the client has joined; its slot is
		// freed when it leaves.
		var id uint64
		h.engine.Serve(w, r, func(c *websocket.Conn) {
			id = h.conns.track(func() { c.Close(websocket.StatusGoingAway, "server shutting down") })
		}, func() {
			if id != 0 {
				h.conns.untrack(id)
			}
			h.conns.leave()
		})
		return
	}
	defer h.conns.leave()
	h.next.ServeHTTP(w, r)
}
