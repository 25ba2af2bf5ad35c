package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/autobahn"
)

// The Autobahn-style conformance suite of internal/autobahn run against
// Duplex's server (Accept) and client (Dial). Every case must be OK or
// INFORMATIONAL, or NON-STRICT for one of the reasons allowed below.

// autobahnAllowed lists the cases where a verdict other than OK is
// accepted, with the reason the suite must give.
var autobahnAllowed = map[string]struct {
	verdict autobahn.Verdict
	reason  string
}{
	// The spec leaves open what happens when a close overtakes messages
	// still being echoed, and the handling of close codes above 4999.
	"7.1.6":  {autobahn.Informational, ""},
	"7.13.1": {autobahn.Informational, ""},
	"7.13.2": {autobahn.Informational, ""},
}

// autobahnOptions keeps Autobahn's one-second waits for a closing
// handshake's answer: Duplex answers on loopback in far less, but on a
// machine loaded to 10 or more, with the race detector, a quarter of a
// second was seen to pass (cases 5.20, 9.3.3 and 9.3.6 failed once each).
var autobahnOptions = &autobahn.Options{Wait: time.Second, CaseTimeout: 60 * time.Second}

// autobahnSections are the sections to run: section 9 (messages up to
// 16 MiB, about 300 MB of traffic) is left out with -short and under the
// race detector.
func autobahnSections() []int {
	if testing.Short() || autobahnRace() {
		return []int{1, 2, 3, 4, 5, 6, 7, 10}
	}
	return autobahn.Sections
}

// autobahnRace reports whether the test binary was built with -race.
func autobahnRace() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

func checkAutobahn(t *testing.T, results []autobahn.Result, cases []autobahn.Case) {
	t.Helper()
	if len(results) != len(cases) {
		t.Errorf("%d results for %d cases", len(results), len(cases))
	}
	for _, r := range results {
		allowed, ok := autobahnAllowed[r.ID]
		switch {
		case r.Verdict == autobahn.OK:
		case ok && r.Verdict == allowed.verdict && strings.Contains(r.Reason, allowed.reason):
		default:
			t.Errorf("case %s: %s: %s (%s)", r.ID, r.Verdict, r.Reason, r.Desc)
		}
	}
	c := autobahn.Count(results)
	t.Logf("%d cases: %d OK, %d NON-STRICT, %d FAILED, %d INFORMATIONAL, %d UNIMPLEMENTED",
		len(results), c[autobahn.OK], c[autobahn.NonStrict], c[autobahn.Failed], c[autobahn.Informational], c[autobahn.Unimplemented])
	if t.Failed() {
		var b strings.Builder
		autobahn.Report(&b, results)
		t.Log("\n" + b.String())
	}
}

// autobahnDeflateOptions runs sections 12 and 13 on fewer messages per
// case than Autobahn's 1000, which would put about 20 GB through deflate
// both ways: 100 messages (every size of every case still runs), and 5
// under -short and the race detector, whose deflate is many times slower
// (20 took five minutes a suite, and the package runs five such suites).
// DUPLEX_AUTOBAHN_FULL=1 in the environment runs Autobahn's 1000 (about 20
// minutes a role).
func autobahnDeflateOptions() *autobahn.Options {
	o := *autobahnOptions
	switch {
	case autobahnFull():
		o.Messages = 0
	case testing.Short() || autobahnRace():
		o.Messages = 5
	default:
		o.Messages = 100
	}
	return &o
}

// autobahnFull reports whether DUPLEX_AUTOBAHN_FULL=1 asks for Autobahn's
// full 1000 messages per case in sections 12 and 13.
func autobahnFull() bool { return os.Getenv("DUPLEX_AUTOBAHN_FULL") == "1" }

// autobahnTimeout bounds a run of the suite in one role.
func autobahnTimeout() time.Duration {
	if autobahnFull() {
		return 45 * time.Minute
	}
	return 10 * time.Minute
}

// autobahnCompression is how Duplex's server and client run sections 12 and
// 13: permessage-deflate on, and every message compressed, however short.
var autobahnCompression = &websocket.CompressionOptions{Threshold: -1}

func TestAutobahnServer(t *testing.T) {
	testAutobahnServer(t, nil, autobahnOptions, autobahnSections()...)
}

func TestAutobahnServerDeflate(t *testing.T) {
	testAutobahnServer(t, autobahnCompression, autobahnDeflateOptions(), 12, 13)
}

// TestAutobahnServerEngine runs the server sections against connections
// served by an Engine.
func TestAutobahnServerEngine(t *testing.T) {
	runAutobahnServer(t, engineEchoHandler(t, nil), autobahnOptions, autobahnSections()...)
}

func TestAutobahnServerEngineDeflate(t *testing.T) {
	runAutobahnServer(t, engineEchoHandler(t, autobahnCompression), autobahnDeflateOptions(), 12, 13)
}

// engineEchoHandler hands every connection to an Engine that echoes each
// message, streaming it back as it arrives.
func engineEchoHandler(t *testing.T, comp *websocket.CompressionOptions) http.Handler {
	e, err := websocket.NewEngine(&websocket.EngineOptions{
		OnMessage: func(c *websocket.Conn, typ websocket.MessageType, r io.Reader) {
			w, err := c.Writer(context.Background(), typ)
			if err != nil {
				return
			}
			if _, err := io.Copy(w, r); err != nil {
				return
			}
			w.Close()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	opts := &websocket.AcceptOptions{ReadLimit: 64 << 20, Compression: comp}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := websocket.Accept(w, r, opts); err == nil {
			e.Serve(c)
		}
	})
}

func testAutobahnServer(t *testing.T, comp *websocket.CompressionOptions, opts *autobahn.Options, sections ...int) {
	// The echo server streams each message back with Reader and Writer,
	// as a typical echo server does.
	runAutobahnServer(t, websocket.EchoHandler(t, &websocket.AcceptOptions{ReadLimit: 64 << 20, Compression: comp}), opts, sections...)
}

func runAutobahnServer(t *testing.T, h http.Handler, opts *autobahn.Options, sections ...int) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	cases := autobahn.Cases(sections...)
	ctx, cancel := context.WithTimeout(context.Background(), autobahnTimeout())
	defer cancel()
	results := autobahn.RunClient(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), cases, opts)
	checkAutobahn(t, results, cases)
}

// autobahnClient is Duplex's client as an Autobahn agent: it connects to
// each case of the fuzzing server at base and echoes every message with
// Read and Write until the connection closes.
func autobahnClient(ctx context.Context, base, agent string, comp *websocket.CompressionOptions) error {
	return autobahnClientWith(ctx, base, agent, &websocket.DialOptions{ReadLimit: 64 << 20, Compression: comp})
}

// autobahnClientWith is autobahnClient dialling with opts.
func autobahnClientWith(ctx context.Context, base, agent string, opts *websocket.DialOptions) error {
	c, _, err := websocket.Dial(ctx, base+"/getCaseCount", opts)
	if err != nil {
		return err
	}
	_, p, err := c.Read(ctx)
	c.CloseNow()
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(string(p))
	if err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		q := url.Values{"case": {strconv.Itoa(i)}, "agent": {agent}}
		c, _, err := websocket.Dial(ctx, base+"/runCase?"+q.Encode(), opts)
		if err != nil {
			return fmt.Errorf("case %d: %w", i, err)
		}
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				break
			}
			if err := c.Write(ctx, typ, p); err != nil {
				break
			}
		}
		c.CloseNow()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	c, _, err = websocket.Dial(ctx, base+"/updateReports?agent="+url.QueryEscape(agent), opts)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if _, _, err := c.Read(ctx); !errors.Is(err, websocket.ErrClosed) && websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		return fmt.Errorf("updateReports ended with %v, want a normal close", err)
	}
	return nil
}

func TestAutobahnClient(t *testing.T) {
	testAutobahnClient(t, nil, autobahnOptions, autobahnSections()...)
}

func TestAutobahnClientDeflate(t *testing.T) {
	testAutobahnClient(t, autobahnCompression, autobahnDeflateOptions(), 12, 13)
}

func testAutobahnClient(t *testing.T, comp *websocket.CompressionOptions, opts *autobahn.Options, sections ...int) {
	cases := autobahn.Cases(sections...)
	fuzz := autobahn.NewServer(cases, opts)
	srv := httptest.NewServer(fuzz)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), autobahnTimeout())
	defer cancel()
	if err := autobahnClient(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), "duplex", comp); err != nil {
		t.Fatal(err)
	}
	if !fuzz.ReportsUpdated("duplex") {
		t.Error("the server saw no /updateReports for the agent")
	}
	checkAutobahn(t, fuzz.Results("duplex"), cases)
}

// The suite over HTTP/2: each case is an extended CONNECT stream (RFC 8441)
// of one TLS connection, Duplex's server (Accept) or client (Dial) at the
// other end.

func TestAutobahnServerHTTP2(t *testing.T) {
	testAutobahnServerHTTP2(t, nil, autobahnOptions, autobahnSections()...)
}

func TestAutobahnServerHTTP2Deflate(t *testing.T) {
	testAutobahnServerHTTP2(t, autobahnCompression, autobahnDeflateOptions(), 12, 13)
}

func testAutobahnServerHTTP2(t *testing.T, comp *websocket.CompressionOptions, opts *autobahn.Options, sections ...int) {
	srv := startHTTP2(t, websocket.EchoHandler(t, &websocket.AcceptOptions{ReadLimit: 64 << 20, Compression: comp}))
	tr := http2Transport(srv)
	defer tr.CloseIdleConnections()
	o := *opts
	o.Dial = func(ctx context.Context, url, offer string) (net.Conn, string, error) {
		return websocket.DialHTTP2Stream(ctx, url, tr, offer)
	}
	cases := autobahn.Cases(sections...)
	ctx, cancel := context.WithTimeout(context.Background(), autobahnTimeout())
	defer cancel()
	results := autobahn.RunClient(ctx, "wss"+strings.TrimPrefix(srv.URL, "https"), cases, &o)
	checkAutobahn(t, results, cases)
}

func TestAutobahnClientHTTP2(t *testing.T) {
	testAutobahnClientHTTP2(t, nil, autobahnOptions, autobahnSections()...)
}

func TestAutobahnClientHTTP2Deflate(t *testing.T) {
	testAutobahnClientHTTP2(t, autobahnCompression, autobahnDeflateOptions(), 12, 13)
}

func testAutobahnClientHTTP2(t *testing.T, comp *websocket.CompressionOptions, opts *autobahn.Options, sections ...int) {
	cases := autobahn.Cases(sections...)
	fuzz := autobahn.NewServer(cases, opts)
	srv := startHTTP2(t, fuzz)
	tr := http2Transport(srv)
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), autobahnTimeout())
	defer cancel()
	dopts := &websocket.DialOptions{ReadLimit: 64 << 20, Compression: comp, HTTP2: tr, TLSConfig: tr.TLSClientConfig}
	if err := autobahnClientWith(ctx, "wss"+strings.TrimPrefix(srv.URL, "https"), "duplex", dopts); err != nil {
		t.Fatal(err)
	}
	if !fuzz.ReportsUpdated("duplex") {
		t.Error("the server saw no /updateReports for the agent")
	}
	checkAutobahn(t, fuzz.Results("duplex"), cases)
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("the cases came over %d TCP connections; want 1", n)
	}
}

// http2Server is a TLS server speaking HTTP/2, counting its TCP connections.
type http2Server struct {
	*httptest.Server
	conns atomic.Int64
}

func startHTTP2(t *testing.T, h http.Handler) *http2Server {
	s := &http2Server{Server: httptest.NewUnstartedServer(h)}
	s.EnableHTTP2 = true
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// http2Transport is a transport that trusts s and speaks HTTP/2.
func http2Transport(s *http2Server) *http.Transport {
	return &http.Transport{TLSClientConfig: s.Client().Transport.(*http.Transport).TLSClientConfig.Clone(), ForceAttemptHTTP2: true}
}
