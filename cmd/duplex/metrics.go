package main

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/duplexws/websocket/hub"
	"github.com/duplexws/websocket/internal/loadgen"
)

// metricsHandler serves /metrics in the Prometheus text exposition format.
type metricsHandler struct {
	start time.Time
	echo  *echoStats
	conns *connSet
	hub   *hub.Hub
}

func (h *metricsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	metric := func(name, typ, help string, v float64) {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name, help, name, typ, name, strconv.FormatFloat(v, 'f', -1, 64))
	}
	metric("duplex_connections_open", "gauge", "WebSocket connections open on all endpoints.", float64(h.conns.count()))
	fmt.Fprintf(bw, "# HELP duplex_connections_total WebSocket connections taken in on all endpoints (handshakes that failed included), by the HTTP version they came over.\n# TYPE duplex_connections_total counter\n")
	taken := h.conns.taken()
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} { // always both, zero or not
		fmt.Fprintf(bw, "duplex_connections_total{protocol=%q} %d\n", proto, taken[proto])
	}
	fmt.Fprintf(bw, "# HELP duplex_refused_total Connections refused, by reason: max_conns (503, over --max-conns), shutting_down (503), descriptors (503 from the listener, near the process's descriptor limit), handshake_timeout (closed: no WebSocket handshake within --handshake-timeout).\n# TYPE duplex_refused_total counter\n")
	refused := h.conns.refusals()
	for _, reason := range []string{refusedMaxConns, refusedShuttingDown, refusedDescriptors, refusedHandshakeTimeout} {
		fmt.Fprintf(bw, "duplex_refused_total{reason=%q} %d\n", reason, refused[reason])
	}
	metric("duplex_echo_connections_open", "gauge", "Connections open on /echo.", float64(h.echo.open.Load()))
	metric("duplex_echo_connections_total", "counter", "Connections accepted on /echo.", float64(h.echo.accepted.Load()))
	metric("duplex_echo_refused_total", "counter", "Handshakes on /echo answered 503 (over --max-conns or shutting down).", float64(h.echo.refused.Load()))
	metric("duplex_echo_messages_total", "counter", "Messages echoed.", float64(h.echo.messages.Load()))
	metric("duplex_echo_bytes_total", "counter", "Payload bytes echoed.", float64(h.echo.bytes.Load()))
	metric("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.", loadgen.CPUTime().Seconds())
	metric("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.",
		float64(h.start.UnixNano())/1e9)
	bw.Flush()
	h.hub.WriteMetrics(w)
}
