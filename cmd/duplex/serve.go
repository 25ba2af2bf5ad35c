package main

import (
	"context"
	"net/http"
	"time"

	"github.com/duplexws/websocket/legacy"
)

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "serve", "[flags]",
		"Serve WebSockets for trying things out:\n"+
			"  /echo       echoes every message with its type (permessage-deflate when offered)\n"+
			"  /metrics    counters in the Prometheus text format\n"+
			"It prints the URL it listens on; on SIGINT or SIGTERM it closes every connection\n"+
			"with 1001 (going away), waits at most --shutdown-timeout and exits 0.")
	var sf serverFlags
	sf.register(fs)
	legacyOn := fs.Bool("legacy", false, "/echo also accepts the old protocols: hybi-07/08 (Sec-WebSocket-Version 7 and 8) and hixie-76")
	maxConns := fs.Int("max-conns", 0, "most WebSocket connections at once; handshakes beyond get 503 (0 = no limit)")
	idle := fs.Duration("idle-timeout", 0, "close an echo connection with 1001 after this long without a message (0 = never)")
	pos, err := parseFlags(fs, args, false)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if err := sf.check(); err != nil {
		return err
	}
	if *maxConns < 0 || *idle < 0 {
		return usagef("--max-conns and --idle-timeout must not be negative")
	}
	log := sf.logger(env)
	conns := newConnSet(*maxConns)
	opts := sf.acceptOptions()
	eh := &echoHandler{opts: opts, idle: *idle, conns: conns, stats: &echoStats{}, log: log}
	if *legacyOn {
		opts.LegacyVersions = []int{7, 8}
		eh.legacyOpts = &legacy.AcceptOptions{
			Subprotocols: opts.Subprotocols, OriginPatterns: opts.OriginPatterns,
			InsecureSkipOriginCheck: opts.InsecureSkipOriginCheck, ReadLimit: opts.ReadLimit,
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/echo", eh)
	mux.Handle("/metrics", &metricsHandler{start: time.Now(), echo: eh.stats, conns: conns})
	return sf.serveHTTP(ctx, env, log, mux, conns)
}
