package peer

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// recorder is a testing.TB that records Skip and Fatal instead of stopping.
type recorder struct {
	testing.TB
	skipped, fatal string
}

func (r *recorder) Helper()             {}
func (r *recorder) Logf(string, ...any) {}
func (r *recorder) Skip(args ...any)    { r.skipped = fmt.Sprint(args...) }
func (r *recorder) Fatal(args ...any)   { r.fatal = fmt.Sprint(args...) }

func TestMissingPeerSkipsOrFailsInCI(t *testing.T) {
	tests := []struct {
		ci       string
		wantSkip bool
	}{
		{ci: "", wantSkip: true},
		{ci: "false", wantSkip: true},
		{ci: "true", wantSkip: false},
	}
	for _, p := range []Peer{Chromium, Python, Node} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/CI=%q", p, tt.ci), func(t *testing.T) {
				t.Setenv("CI", tt.ci)
				r := &recorder{TB: t}
				missing(r, p, errors.New("not found"))
				got := r.skipped
				if !tt.wantSkip {
					got = r.fatal
					if r.skipped != "" {
						t.Errorf("skipped with CI=true: %q", r.skipped)
					}
				} else if r.fatal != "" {
					t.Errorf("failed without CI=true: %q", r.fatal)
				}
				if !strings.Contains(got, p.install()) || !strings.Contains(got, "not found") {
					t.Errorf("message %q does not say what to install (%q) and why", got, p.install())
				}
			})
		}
	}
}

// TestMissingPeerMessageIsOneLine makes node and python fail as they do
// when a library is missing, with a stack trace on stderr: the skip message
// is one line that says what went wrong and what to install.
func TestMissingPeerMessageIsOneLine(t *testing.T) {
	tests := []struct {
		peer Peer
		cmd  []string
		want string
	}{
		{Node, []string{"node", "-e", "require('duplex-no-such-module')"}, "Cannot find module 'duplex-no-such-module'"},
		{Python, []string{"python3", "-c", "import duplex_no_such_module"}, "No module named 'duplex_no_such_module'"},
	}
	for _, tt := range tests {
		t.Run(string(tt.peer), func(t *testing.T) {
			if _, err := exec.LookPath(tt.cmd[0]); err != nil {
				t.Skipf("%s is not installed", tt.cmd[0])
			}
			_, err := probe(nil, tt.cmd[0], tt.cmd[1:]...)
			if err == nil {
				t.Fatalf("%q succeeded", tt.cmd)
			}
			t.Setenv("CI", "")
			r := &recorder{TB: t}
			missing(r, tt.peer, errors.Join(errors.New("first candidate: not found"), err))
			if strings.Contains(r.skipped, "\n") || !strings.Contains(r.skipped, tt.want) || !strings.Contains(r.skipped, tt.peer.install()) {
				t.Errorf("skip message %q; want one line with %q and %q", r.skipped, tt.want, tt.peer.install())
			}
		})
	}
}

func TestInstallNamesThePackage(t *testing.T) {
	for p, want := range map[Peer]string{
		Chromium: "apt-get install chromium",
		Python:   "apt-get install python3-websockets",
		Node:     "npm ci --prefix internal/peer/node",
	} {
		if !strings.Contains(p.install(), want) {
			t.Errorf("%s: install hint %q lacks %q", p, p.install(), want)
		}
	}
}

func TestStartPythonLinesArgsAndExit(t *testing.T) {
	p := StartPython(t, Script{
		Source:  "import sys, websockets\nprint('args', *sys.argv[1:])\nprint('partial', end='')\n",
		Args:    []string{"a", "b c"},
		Timeout: 30 * time.Second,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, want := range []string{"args a b c", "partial"} {
		got, err := p.Line(ctx)
		if err != nil || got != want {
			t.Fatalf("Line() = %q, %v; want %q", got, err, want)
		}
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Line(ctx); !errors.Is(err, ErrNoMoreLines) {
		t.Fatalf("Line after exit: %v, want ErrNoMoreLines", err)
	}
}

func TestStartNodeLoadsWS(t *testing.T) {
	p := StartNode(t, Script{
		Source:  "const WebSocket = require('ws'); console.log(typeof WebSocket.Server, process.argv.slice(2).join(','));\nconsole.error('to stderr');",
		Args:    []string{"x", "y"},
		Timeout: 30 * time.Second,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if got, err := p.Line(ctx); err != nil || got != "function x,y" {
		t.Fatalf("Line() = %q, %v", got, err)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if out := p.Output(); !strings.Contains(out, "to stderr") {
		t.Fatalf("Output() lacks standard error:\n%s", out)
	}
}

func TestScriptTimeoutKills(t *testing.T) {
	p := StartPython(t, Script{Source: "import time\ntime.sleep(60)\n", Timeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := p.Wait(ctx)
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("Wait() = %v, want a timeout kill", err)
	}
}

func TestScriptFailureReportsStderr(t *testing.T) {
	p := StartPython(t, Script{Source: "raise SystemExit('boom')\n", Timeout: 30 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := p.Wait(ctx)
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Wait() = %v, want the script's error text", err)
	}
}

func TestBrowserRunsScript(t *testing.T) {
	ctx := Browser(t, time.Minute)
	ua, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ua, "Chrome") {
		t.Fatalf("userAgent = %q", ua)
	}
}
