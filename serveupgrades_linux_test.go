package websocket

import (
	"io"
	"net/http"
	"testing"
)

func TestServeUpgradesEngineTakesSocketsOver(t *testing.T) {
	e, err := NewEngine(&EngineOptions{OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
		p, _ := io.ReadAll(r)
		c.Write(t.Context(), typ, p)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	conns := make(chan *Conn, 1)
	addr := upgradeServer(t, &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		if err := e.Serve(c); err != nil {
			t.Errorf("Serve: %v", err)
		}
		conns <- c
	})}, nil)
	roundTrip(t, "ws://"+addr+"/", nil)
	takenOver(t, conns)
}
