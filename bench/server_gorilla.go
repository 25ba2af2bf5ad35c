package bench

import (
	"net/http"
	"slices"
	"sync"

	"github.com/gorilla/websocket"
)

// newGorillaServer returns gorilla/websocket's server: an Upgrader with a
// ReadMessage/WriteMessage loop for echo, and for fan-out a plain loop over
// the subscribers writing one PreparedMessage to each.
func newGorillaServer(mode compressMode) libServer {
	// gorilla negotiates permessage-deflate without context takeover only,
	// whatever the client offers.
	up := &websocket.Upgrader{EnableCompression: mode != compressOff}
	var (
		mu   sync.RWMutex
		subs []*websocket.Conn
	)
	return libServer{
		echo: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			c.SetReadLimit(maxMessage)
			for {
				typ, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				if err := c.WriteMessage(typ, p); err != nil {
					return
				}
			}
		}),
		sub: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			c.SetReadLimit(maxMessage)
			mu.Lock()
			subs = append(subs, c)
			mu.Unlock()
			defer func() {
				mu.Lock()
				if i := slices.Index(subs, c); i >= 0 {
					subs = slices.Delete(subs, i, i+1)
				}
				mu.Unlock()
			}()
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}),
		pub: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			c.SetReadLimit(maxMessage)
			for {
				typ, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				pm, err := websocket.NewPreparedMessage(typ, p)
				if err != nil {
					return
				}
				// Only this goroutine writes to subscribers, as gorilla
				// requires one writer at a time per connection. A failed
				// subscriber is closed; its own handler then removes it.
				mu.RLock()
				for _, s := range subs {
					if err := s.WritePreparedMessage(pm); err != nil {
						s.NetConn().Close()
					}
				}
				mu.RUnlock()
			}
		}),
		subscribers: func() int {
			mu.RLock()
			defer mu.RUnlock()
			return len(subs)
		},
	}
}
