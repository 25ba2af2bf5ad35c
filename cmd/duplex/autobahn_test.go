package main

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duplexws/websocket/internal/autobahn"
)

// TestAutobahnSuite runs duplex autobahn against the repository's
// Autobahn-style fuzzing server: sections 1 to 7 and 10, and section 12 on
// a few messages per case (compression is on by default). The root
// package's tests run every section against the library itself.
func TestAutobahnSuite(t *testing.T) {
	cases := autobahn.Cases(1, 2, 3, 4, 5, 6, 7, 10, 12)
	fuzz := autobahn.NewServer(cases, &autobahn.Options{Wait: 250 * time.Millisecond, Messages: 5})
	srv := httptest.NewServer(fuzz)
	defer srv.Close()
	// The suite takes about a minute under the race detector on an idle
	// machine; a loaded two-core one takes several times that.
	r := runDuplexWithin(t, 2*time.Minute*raceSlowdown, "", "autobahn", "ws"+strings.TrimPrefix(srv.URL, "http"), "--agent", "duplex-cli")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
	}
	if !fuzz.ReportsUpdated("duplex-cli") {
		t.Error("the server saw no /updateReports for the agent")
	}
	results := fuzz.Results("duplex-cli")
	if len(results) != len(cases) {
		t.Errorf("%d results for %d cases", len(results), len(cases))
	}
	for _, res := range results {
		// 7.1.6 and 7.13.x are informational: the spec leaves them open.
		if res.Verdict != autobahn.OK && res.Verdict != autobahn.Informational {
			t.Errorf("case %s: %s: %s", res.ID, res.Verdict, res.Reason)
		}
	}
	n := strconv.Itoa(len(cases))
	for _, want := range []string{n + " cases", "case " + n + "/" + n, "reports updated"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("progress lacks %q", want)
		}
	}
}

func TestAutobahnClientFailsWithoutServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	// The suite takes about a minute under the race detector on an idle
	// machine; a loaded two-core one takes several times that.
	r := runDuplexWithin(t, 2*time.Minute*raceSlowdown, "", "autobahn", "ws"+strings.TrimPrefix(srv.URL, "http"))
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
