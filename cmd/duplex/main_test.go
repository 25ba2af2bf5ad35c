package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// duplexBin is the duplex binary built once for the tests of this package.
var duplexBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "duplex-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	duplexBin = filepath.Join(dir, "duplex")
	args := append(append([]string{"build"}, buildFlags...), "-o", duplexBin, ".")
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building duplex: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// eventually polls cond until it holds, for at most 10 seconds, and
// reports whether it did. It is for conditions that another process
// reaches (a log line, a metric, a free slot) and that send no event.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// result is how a run of duplex ended.
type result struct {
	stdout, stderr string
	code           int
}

// runDuplex runs duplex with args and stdin to the end, at most 2 minutes:
// a bound for a hung command, generous for the race detector on a busy
// machine.
func runDuplex(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runDuplexWithin(t, 2*time.Minute, stdin, args...)
}

// runDuplexWithin is runDuplex bounded by limit.
func runDuplexWithin(t *testing.T, limit time.Duration, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, duplexBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok || ctx.Err() != nil {
			t.Fatalf("duplex %s: %v (stderr: %s)", strings.Join(args, " "), err, errOut.String())
		}
		code = ee.ExitCode()
	}
	if strings.Contains(errOut.String(), "DATA RACE") {
		t.Errorf("the race detector found a data race in duplex %s:\n%s", strings.Join(args, " "), errOut.String())
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// server is a duplex serve or exec process started by a test.
type server struct {
	cmd  *exec.Cmd
	url  string // http://HOST:PORT or https://HOST:PORT
	done chan struct{}
	err  error // of Wait, once done is closed

	mu     sync.Mutex
	stderr bytes.Buffer
}

// ws returns the server's URL with scheme ws or wss and the given path.
func (s *server) ws(path string) string {
	return "ws" + strings.TrimPrefix(s.url, "http") + path
}

func (s *server) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

type lockedBuffer struct{ s *server }

func (w lockedBuffer) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.stderr.Write(p)
}

// startServer runs duplex with args (serve or exec, listening on port 0)
// and waits for the line giving its URL. The process is interrupted when the
// test ends, and killed if it does not exit.
func startServer(t testing.TB, args ...string) *server {
	t.Helper()
	return startServerCmd(t, exec.Command(duplexBin, args...), args)
}

// startServerCmd is startServer running cmd, which runs duplex with args.
func startServerCmd(t testing.TB, cmd *exec.Cmd, args []string) *server {
	t.Helper()
	s := &server{cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = lockedBuffer{s}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		lines <- line
		io.Copy(io.Discard, br)
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		// Interrupt first, so that duplex ends what it started (exec's
		// programs) as a user's Ctrl-C would; kill it if that takes too long.
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-s.done
		}
		if strings.Contains(s.logs(), "DATA RACE") {
			t.Error("the race detector found a data race in duplex")
		}
		if t.Failed() {
			t.Logf("server stderr:\n%s", s.logs())
		}
	})
	select {
	case line := <-lines:
		const prefix = "duplex: listening on "
		if !strings.HasPrefix(line, prefix) {
			t.Fatalf("first line of duplex %s is %q, want %q...; stderr: %s", args[0], line, prefix, s.logs())
		}
		s.url = strings.TrimSpace(strings.TrimPrefix(line, prefix))
	case <-time.After(20 * time.Second):
		t.Fatalf("duplex %s did not print its URL; stderr: %s", args[0], s.logs())
	}
	return s
}

// stop sends sig and waits for the process to exit, returning its exit status.
func (s *server) stop(t *testing.T, sig syscall.Signal, within time.Duration) int {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(within):
		t.Fatalf("duplex did not exit within %v of %v", within, sig)
	}
	if s.err != nil {
		if ee, ok := s.err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatal(s.err)
	}
	return 0
}
