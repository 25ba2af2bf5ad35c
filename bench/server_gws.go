package bench

import (
	"net/http"
	"sync"

	"github.com/lxzan/gws"
)

// newGWSServer returns lxzan/gws's server: an Upgrader whose event handler
// echoes each message, and for fan-out a Broadcaster per published message.
func newGWSServer(mode compressMode) libServer {
	opt := func() *gws.ServerOption {
		return &gws.ServerOption{
			ReadMaxPayloadSize: maxMessage,
			PermessageDeflate: gws.PermessageDeflate{
				Enabled:               mode != compressOff,
				ServerContextTakeover: mode == compressTakeover,
				ClientContextTakeover: mode == compressTakeover,
			},
		}
	}
	fan := &gwsFanout{subs: make(map[*gws.Conn]struct{})}
	return libServer{
		echo:        gwsHandler(gws.NewUpgrader(gwsEcho{}, opt())),
		sub:         gwsHandler(gws.NewUpgrader((*gwsSubscribers)(fan), opt())),
		pub:         gwsHandler(gws.NewUpgrader((*gwsPublisher)(fan), opt())),
		subscribers: fan.count,
	}
}

// gwsHandler upgrades each request with up and runs the connection's read
// loop in a goroutine of its own, as gws's examples do.
func gwsHandler(up *gws.Upgrader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		go c.ReadLoop()
	})
}

// gwsEcho writes every message back.
type gwsEcho struct{ gws.BuiltinEventHandler }

// OnMessage echoes m and returns its buffer to gws.
func (gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	c.WriteMessage(m.Opcode, m.Bytes())
	m.Close()
}

// gwsFanout is the set of fan-out subscribers.
type gwsFanout struct {
	gws.BuiltinEventHandler
	mu   sync.RWMutex
	subs map[*gws.Conn]struct{}
}

// count returns the number of subscribers.
func (f *gwsFanout) count() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.subs)
}

// gwsSubscribers adds each connection to the fan-out set while it is open.
type gwsSubscribers gwsFanout

// OnOpen adds c to the subscribers.
func (s *gwsSubscribers) OnOpen(c *gws.Conn) {
	s.mu.Lock()
	s.subs[c] = struct{}{}
	s.mu.Unlock()
}

// OnClose removes c from the subscribers.
func (s *gwsSubscribers) OnClose(c *gws.Conn, err error) {
	s.mu.Lock()
	delete(s.subs, c)
	s.mu.Unlock()
}

// gwsPublisher sends every message it reads to all subscribers.
type gwsPublisher gwsFanout

// OnMessage broadcasts m: the frame is built once and queued on each
// subscriber's write queue.
func (p *gwsPublisher) OnMessage(c *gws.Conn, m *gws.Message) {
	// The broadcaster keeps its payload until the last queued write is
	// done, after m's buffer has gone back to gws.
	payload := append([]byte(nil), m.Bytes()...)
	m.Close()
	b := gws.NewBroadcaster(m.Opcode, payload)
	p.mu.RLock()
	for s := range p.subs {
		b.Broadcast(s)
	}
	p.mu.RUnlock()
	b.Close()
}
