package loadgen_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/loadgen"
)

func ExampleRun() {
	// An echo endpoint to load.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil || c.Write(r.Context(), typ, p) != nil {
				return
			}
		}
	}))
	defer srv.Close()

	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL:      "ws" + strings.TrimPrefix(srv.URL, "http"),
		Conns:    2,
		Size:     128,
		Pipeline: 4,
		Duration: 200 * time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("connections:", res.Connected)
	fmt.Println("echoes measured:", res.MessagesReceived > 0, "errors:", res.Errors)
	fmt.Println("p50 <= p99:", res.Latency.P50 <= res.Latency.P99)
	// Output:
	// connections: 2
	// echoes measured: true errors: 0
	// p50 <= p99: true
}

func ExampleHistogram() {
	h := loadgen.NewHistogram()
	for i := 1; i <= 1000; i++ {
		h.Record(int64(i) * int64(time.Microsecond))
	}
	fmt.Println("count:", h.Count())
	fmt.Println("p50 within 1%:", h.Quantile(0.5) >= 500_000 && h.Quantile(0.5) <= 505_000)
	fmt.Println("max:", time.Duration(h.Max()))
	// Output:
	// count: 1000
	// p50 within 1%: true
	// max: 1ms
}
