package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/duplexws/websocket"
)

// fakeFuzzer is a stand-in for an Autobahn-style fuzzing server: each case
// sends a few messages, checks that they come back unchanged, and closes.
type fakeFuzzer struct {
	cases [][]string // messages per case; a leading "b:" marks binary

	mu      sync.Mutex
	passed  map[string]int // agent -> cases echoed correctly
	reports []string       // agents whose reports were asked for
}

func (f *fakeFuzzer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Compression: &websocket.CompressionOptions{}})
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	switch r.URL.Path {
	case "/getCaseCount":
		c.Write(ctx, websocket.MessageText, []byte(strconv.Itoa(len(f.cases))))
		c.Close(websocket.StatusNormalClosure, "")
	case "/runCase":
		n, _ := strconv.Atoi(r.URL.Query().Get("case"))
		if n < 1 || n > len(f.cases) {
			c.Close(websocket.StatusPolicyViolation, "no such case")
			return
		}
		ok := true
		for _, m := range f.cases[n-1] {
			typ, p := websocket.MessageText, []byte(m)
			if b, isBin := strings.CutPrefix(m, "b:"); isBin {
				typ, p = websocket.MessageBinary, []byte(b)
			}
			c.Write(ctx, typ, p)
			gt, gp, err := c.Read(ctx)
			ok = ok && err == nil && gt == typ && bytes.Equal(gp, p)
		}
		c.Close(websocket.StatusNormalClosure, "")
		if ok {
			f.mu.Lock()
			f.passed[r.URL.Query().Get("agent")]++
			f.mu.Unlock()
		}
	case "/updateReports":
		f.mu.Lock()
		f.reports = append(f.reports, r.URL.Query().Get("agent"))
		f.mu.Unlock()
		c.Close(websocket.StatusNormalClosure, "")
	}
}

func TestAutobahnClientAgainstFakeFuzzer(t *testing.T) {
	f := &fakeFuzzer{
		cases: [][]string{
			{"hello"},
			{"b:\x00\x01\x02", "text after binary"},
			{strings.Repeat("big ", 100_000)},
			{},
		},
		passed: map[string]int{},
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	r := runDuplex(t, "", "autobahn", "ws"+strings.TrimPrefix(srv.URL, "http"), "--agent", "duplex-test")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.passed["duplex-test"] != len(f.cases) {
		t.Errorf("%d of %d cases echoed correctly", f.passed["duplex-test"], len(f.cases))
	}
	if len(f.reports) != 1 || f.reports[0] != "duplex-test" {
		t.Errorf("reports asked for %q, want once for duplex-test", f.reports)
	}
	for _, want := range []string{"4 cases", "case 4/4", "reports updated"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("progress lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestAutobahnClientFailsWithoutServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	r := runDuplex(t, "", "autobahn", "ws"+strings.TrimPrefix(srv.URL, "http"))
	if r.code != 1 || !strings.Contains(r.stderr, "getCaseCount") {
		t.Fatalf("exit %d, stderr %q; want 1 naming getCaseCount", r.code, r.stderr)
	}
}

func TestCaseEndpointKeepsPrefix(t *testing.T) {
	u, _ := parseWSURL("ws://h:9001/fuzz/")
	if got := endpoint(u, "runCase", map[string][]string{"case": {"3"}, "agent": {"a b"}}); got != "ws://h:9001/fuzz/runCase?agent=a+b&case=3" {
		t.Errorf("endpoint = %q", got)
	}
}
