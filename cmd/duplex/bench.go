package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/loadgen"
)

func runBench(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "bench", "[flags] URL",
		"Open connections to a WebSocket echo endpoint (such as duplex serve's /echo),\n"+
			"send messages for a while and report throughput and send-to-echo latency.")
	conns := fs.Int("conns", 10, "number of connections")
	size := byteSizeFlag(64)
	fs.Var(&size, "size", "payload `bytes` of every message (64, 4k, 1M...)")
	rate := fs.Float64("rate", 0, "messages per second per connection; 0 = as fast as --pipeline allows")
	pipeline := fs.Int("pipeline", 0, "messages in flight per connection (default 1, or 4096 with --rate)")
	duration := fs.Duration("duration", 10*time.Second, "length of the measured run, after all connections are open")
	rampUp := fs.Duration("ramp-up", 0, "spread the opening of the connections over this time")
	binary := fs.Bool("binary", false, "send binary messages instead of text")
	noDeflate := fs.Bool("no-deflate", false, "do not offer permessage-deflate")
	insecure := fs.Bool("insecure", false, "skip TLS certificate verification (wss)")
	caCert := fs.String("cacert", "", "trust the server certificates signed by the PEM certificates in `FILE` (wss)")
	asJSON := fs.Bool("json", false, "print the result as JSON instead of a table")
	u, err := urlArg(fs, args)
	if err != nil {
		return err
	}
	if err := checkFlags(positive("conns", *conns), flagRule{"size", size >= 1 && size <= 1<<30, "must be between 1 and 1G"},
		notNegative("rate", *rate), notNegative("pipeline", *pipeline), positive("duration", *duration),
		notNegative("ramp-up", *rampUp)); err != nil {
		return err
	}

	dopts := &websocket.DialOptions{ReadLimit: max(int64(size), 32<<20)}
	if !*noDeflate {
		dopts.Compression = &websocket.CompressionOptions{}
	}
	if dopts.TLSConfig, err = clientTLS(*insecure, *caCert); err != nil {
		return err
	}
	cfg := loadgen.Config{
		URL: u.String(), Conns: *conns, Size: int(size), Rate: *rate, Pipeline: *pipeline,
		Duration: *duration, RampUp: *rampUp, Binary: *binary, Dial: dopts,
	}
	live := !*asJSON && isTerminal(env.stdout)
	if live {
		cfg.Progress = func(p loadgen.Progress) {
			fmt.Fprintf(env.stdout, "\r\033[K%6.1fs  %d conns open  %d msgs  %.0f msg/s  %d errors",
				p.Elapsed.Seconds(), p.Open, p.Received, p.Rate, p.Errors)
		}
	}
	res, err := loadgen.Run(ctx, cfg)
	if live {
		fmt.Fprint(env.stdout, "\r\033[K")
	}
	if res != nil {
		if *asJSON {
			enc := json.NewEncoder(env.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(res); err != nil {
				return err
			}
		} else {
			printBenchTable(env.stdout, res)
		}
	}
	return err
}

// printBenchTable writes res as an aligned table.
func printBenchTable(w io.Writer, res *loadgen.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	typ := "text"
	if res.Binary {
		typ = "binary"
	}
	ext := res.Extensions
	if ext == "" {
		ext = "none"
	}
	fmt.Fprintf(tw, "url\t%s\n", res.URL)
	fmt.Fprintf(tw, "connections\t%d of %d opened\n", res.Connected, res.Connections)
	fmt.Fprintf(tw, "messages\t%d bytes, %s, extensions: %s\n", res.MessageSize, typ, ext)
	fmt.Fprintf(tw, "duration\t%.2fs\n", res.DurationSeconds)
	fmt.Fprintf(tw, "sent / received\t%d / %d\n", res.MessagesSent, res.MessagesReceived)
	fmt.Fprintf(tw, "messages/s\t%.0f\n", res.MessagesPerSecond)
	fmt.Fprintf(tw, "bytes/s\t%s\n", humanBytes(res.BytesPerSecond))
	l := res.Latency
	fmt.Fprintf(tw, "latency\tp50 %s  p99 %s  p999 %s  max %s  mean %s\n",
		us(l.P50), us(l.P99), us(l.P999), us(l.Max), us(l.Mean))
	fmt.Fprintf(tw, "errors\t%d\n", res.Errors)
	for _, s := range res.ErrorSamples {
		fmt.Fprintf(tw, "\t%s\n", s)
	}
	fmt.Fprintf(tw, "client cpu\t%.2fs (%.0f%% of one core)\n", res.CPUSeconds, 100*res.CPUSeconds/max(res.DurationSeconds, 1e-9))
	tw.Flush()
}

func us(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fs", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.2fms", v/1e3)
	default:
		return fmt.Sprintf("%.0fµs", v)
	}
}

func humanBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// isTerminal tells whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
