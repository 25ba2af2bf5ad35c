// Package chat serves the chat rooms of `duplex serve` on top of a hub:
// GET /chat?room=NAME upgrades to a WebSocket that joins the room, and every
// message a client sends is relayed to every client of the room, the
// sender included, on this server and on every server sharing the hub's
// broker.
//
// The server relays messages as they are, text or binary, without reading
// them. The chat page (package web) sends and expects text messages holding
// one JSON object:
//
//	{"name": "ann", "text": "hello", "time": "2025-06-01T12:00:00.000Z"}
//
// name is the sender's chosen name, text what they wrote, time when they
// sent it (RFC 3339, from the sender's clock). The page shows any other
// message as raw text from an unnamed sender.
//
// # The duplex.chat.v2 subprotocol: resuming a room
//
// A client that offers the subprotocol duplex.chat.v2 (Subprotocol) sends
// as before but receives every message of the room as one text message
// holding a JSON object that gives its position in the room's history:
//
//	{"pos": "EPOCH:SEQ", "text": "<the message, if it was text>"}
//	{"pos": "EPOCH:SEQ", "binary": "<the message, if binary, in base64>"}
//
// (without "pos" when the server keeps no history of the room). A client
// that comes back connects to /chat?room=NAME&since=EPOCH:SEQ with the last
// position it received, on this server or, through a broker with history,
// any other: it first receives every message it missed, in order, then the
// live ones, none twice. When the missed messages cannot be recovered (the
// history no longer reaches back, or the server restarted without a shared
// history), the first message is {"reset": true, "pos": "EPOCH:SEQ"}: the
// client reloads its state and goes on from that position. A malformed
// since gets 400 Bad Request. A client that does not offer the
// subprotocol gets the messages as they were sent, and since is ignored.
package chat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
)

// TopicPrefix is put before a room's name to make its hub topic.
const TopicPrefix = "chat."

// MaxRoomLen is the longest room name, in bytes.
const MaxRoomLen = 64

// DefaultReadLimit is the largest message a client may send when Handler is
// given nil options.
const DefaultReadLimit = 64 << 10

// Subprotocol is the subprotocol of the positioned, resumable chat (see
// the package documentation).
const Subprotocol = "duplex.chat.v2"

// ErrBadRoom is returned by CheckRoom for a name that is not a room.
var ErrBadRoom = errors.New("chat: bad room name")

// CheckRoom returns nil if name is a valid room name: 1 to 64 ASCII
// letters, digits, '-' or '_'. Otherwise it returns an error wrapping
// ErrBadRoom.
func CheckRoom(name string) error {
	if name == "" || len(name) > MaxRoomLen {
		return fmt.Errorf("%w: want 1 to %d characters, got %d", ErrBadRoom, MaxRoomLen, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("%w: %q has the character %q; use letters, digits, - and _", ErrBadRoom, name, c)
		}
	}
	return nil
}

// Handler returns the handler of /chat?room=NAME. It accepts the WebSocket
// with opts (nil means a read limit of DefaultReadLimit and otherwise the
// core's defaults; Handler adds Subprotocol to opts.Subprotocols), subscribes it to the topic TopicPrefix+NAME of h and
// publishes each message it reads to that topic. A request without a valid
// room gets 400 Bad Request. When h closes, each client is closed with
// 1001 (going away); a client the hub disconnects as a slow consumer gets
// the hub's close code.
func Handler(h *hub.Hub, opts *websocket.AcceptOptions) http.Handler {
	opts = withV2(opts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		room, since, err := parseQuery(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c, err := websocket.Accept(w, r, opts)
		if err != nil {
			return // Accept has answered the request.
		}
		defer c.CloseNow()
		serve(r.Context(), h, c, TopicPrefix+room, since)
	})
}

// withV2 returns opts (nil: the defaults of Handler) with Subprotocol added
// to its Subprotocols if missing. AcceptOptions cannot be copied, so the
// caller's is changed.
func withV2(opts *websocket.AcceptOptions) *websocket.AcceptOptions {
	if opts == nil {
		opts = &websocket.AcceptOptions{ReadLimit: DefaultReadLimit}
	}
	if !slices.Contains(opts.Subprotocols, Subprotocol) {
		opts.Subprotocols = append(opts.Subprotocols, Subprotocol)
	}
	return opts
}

// parseQuery reads the room and the since position of a /chat request.
func parseQuery(r *http.Request) (string, hub.Position, error) {
	q := r.URL.Query()
	room := q.Get("room")
	if err := CheckRoom(room); err != nil {
		return "", hub.Position{}, err
	}
	since, err := hub.ParsePosition(q.Get("since"))
	return room, since, err
}

// join subscribes c to topic: for a duplex.chat.v2 client, as a positioned
// subscriber resuming from since where the hub keeps the room's history.
func join(ctx context.Context, h *hub.Hub, c *websocket.Conn, topic string, since hub.Position) (*hub.Subscriber, error) {
	if c.Subprotocol() != Subprotocol {
		return h.Subscribe(ctx, c, topic)
	}
	sub, err := h.SubscribeWith(ctx, c, &hub.SubscribeOptions{Positions: true})
	if err != nil {
		return nil, err
	}
	_, err = sub.Resume(ctx, topic, since)
	if errors.Is(err, hub.ErrNoHistory) {
		err = sub.Subscribe(ctx, topic)
	}
	if err != nil {
		sub.Close()
		return nil, err
	}
	return sub, nil
}

// serve relays c's messages to topic until c or the hub ends.
func serve(ctx context.Context, h *hub.Hub, c *websocket.Conn, topic string, since hub.Position) {
	sub, err := join(ctx, h, c, topic, since)
	if err != nil {
		if errors.Is(err, hub.ErrHubClosed) {
			c.Close(websocket.StatusGoingAway, "server shutting down")
		} else {
			c.Close(websocket.StatusInternalError, "cannot join the room")
		}
		return
	}
	defer sub.Close()

	// The hub ends the subscriber on its own when it closes; the client
	// then hears why.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-sub.Done():
			if errors.Is(sub.Err(), hub.ErrHubClosed) {
				c.Close(websocket.StatusGoingAway, "server shutting down")
			}
		case <-stop:
		}
	}()

	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := h.Publish(ctx, topic, hub.Message{Type: typ, Data: data}); err != nil {
			if !errors.Is(err, hub.ErrHubClosed) {
				c.Close(websocket.StatusInternalError, "cannot relay the message")
			}
			return
		}
	}
}

// EngineServer serves the chat rooms as Handler does, but from a
// websocket.Engine: a client's handler returns once the client has joined
// its room, and a quiet client holds no goroutine. Closing the hub ends
// the clients' subscriptions; Close closes the clients themselves with 1001
// (going away).
type EngineServer struct {
	hub     *hub.Hub
	opts    *websocket.AcceptOptions
	engine  *websocket.Engine
	clients sync.Map // *websocket.Conn → *engineClient
}

// engineClient is what EngineServer keeps of one client.
type engineClient struct {
	topic string
	sub   *hub.Subscriber
	onEnd func()
}

// NewEngineServer returns an EngineServer over h; opts are as for Handler.
func NewEngineServer(h *hub.Hub, opts *websocket.AcceptOptions) (*EngineServer, error) {
	s := &EngineServer{hub: h, opts: withV2(opts)}
	e, err := websocket.NewEngine(&websocket.EngineOptions{OnMessage: s.relay, OnClose: s.left})
	if err != nil {
		return nil, err
	}
	s.engine = e
	return s, nil
}

// ServeHTTP serves one client.
func (s *EngineServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Serve(w, r, nil, nil)
}

// Serve serves one client as ServeHTTP does. onJoin (unless nil) is called
// with the client's connection once it has joined its room, before any of
// its messages is relayed; onEnd (unless nil) once the client has left, or
// when the request ends if it never joined. Over HTTP/2 the client is
// served from this goroutine, as Handler does, since its stream ends with
// the handler.
func (s *EngineServer) Serve(w http.ResponseWriter, r *http.Request, onJoin func(*websocket.Conn), onEnd func()) {
	if onEnd == nil {
		onEnd = func() {}
	}
	room, since, err := parseQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		onEnd()
		return
	}
	if r.ProtoMajor != 1 {
		Handler(s.hub, s.opts).ServeHTTP(w, r)
		onEnd()
		return
	}
	c, err := websocket.Accept(w, r, s.opts)
	if err != nil {
		onEnd()
		return
	}
	topic := TopicPrefix + room
	sub, err := join(context.Background(), s.hub, c, topic, since)
	if err != nil {
		if errors.Is(err, hub.ErrHubClosed) {
			c.Close(websocket.StatusGoingAway, "server shutting down")
		} else {
			c.Close(websocket.StatusInternalError, "cannot join the room")
		}
		onEnd()
		return
	}
	if onJoin != nil {
		onJoin(c)
	}
	s.clients.Store(c, &engineClient{topic: topic, sub: sub, onEnd: onEnd})
	if err := s.engine.Serve(c); err != nil {
		s.clients.Delete(c)
		sub.Close()
		c.CloseNow()
		onEnd()
	}
}

// relay publishes one message of a client to its room.
func (s *EngineServer) relay(c *websocket.Conn, typ websocket.MessageType, r io.Reader) {
	v, ok := s.clients.Load(c)
	if !ok {
		return
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return // the read limit or a protocol error closed the connection
	}
	if err := s.hub.Publish(context.Background(), v.(*engineClient).topic, hub.Message{Type: typ, Data: data}); err != nil {
		if errors.Is(err, hub.ErrHubClosed) {
			c.Close(websocket.StatusGoingAway, "server shutting down")
		} else {
			c.Close(websocket.StatusInternalError, "cannot relay the message")
		}
	}
}

// left ends a client's subscription once its connection has ended.
func (s *EngineServer) left(c *websocket.Conn, _ error) {
	if v, ok := s.clients.LoadAndDelete(c); ok {
		cl := v.(*engineClient)
		cl.sub.Close()
		cl.onEnd()
	}
}

// Close closes every client with 1001 (going away) and stops the engine.
func (s *EngineServer) Close() error { return s.engine.Close() }
