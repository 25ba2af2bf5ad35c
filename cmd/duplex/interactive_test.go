package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// terminal is duplex running on a pseudo-terminal.
type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  io.ReadWriter
	done chan struct{}

	mu  sync.Mutex
	out bytes.Buffer
}

func startTerminal(t *testing.T, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(duplexBin, args...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, cmd: cmd, tty: f, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		cmd.Wait()
		close(term.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-term.done
		f.Close()
		if t.Failed() {
			t.Logf("terminal output:\n%s", term.output())
		}
	})
	return term
}

func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// expect waits until the terminal shows want.
func (term *terminal) expect(want string) {
	term.t.Helper()
	if !eventually(func() bool { return strings.Contains(term.output(), want) }) {
		term.t.Fatalf("the terminal never showed %q", want)
	}
}

func (term *terminal) typeLine(s string) {
	term.t.Helper()
	if _, err := io.WriteString(term.tty, s+"\r"); err != nil {
		term.t.Fatal(err)
	}
}

func TestInteractiveConnect(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	term := startTerminal(t, "connect", "--binary-as", "base64", s.ws("/echo"))
	term.expect("connected to " + s.ws("/echo"))
	term.expect("> ")

	term.typeLine("hello terminal")
	term.expect("< text: hello terminal")

	term.typeLine("/binary hi")
	term.expect("< binary (2 bytes): aGk=")

	term.typeLine("//slash")
	term.expect("< text: /slash")

	term.typeLine("/ping")
	term.expect("pong after")

	term.typeLine("/close 99 nope")
	term.expect("bad close code")

	term.typeLine("/close 1000 bye")
	term.expect("closed: 1000 (normal closure)")
	select {
	case <-term.done:
	case <-time.After(10 * time.Second):
		t.Fatal("duplex connect did not exit after /close")
	}
	if code := term.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d after /close 1000 bye, want 0", code)
	}
}

func TestInteractiveHistory(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	term := startTerminal(t, "connect", s.ws("/echo"))
	term.expect("> ")
	term.typeLine("remember me")
	term.expect("< text: remember me")
	// Up arrow recalls the last line; Enter sends it again.
	io.WriteString(term.tty, "\x1b[A\r")
	if !eventually(func() bool { return strings.Count(term.output(), "< text: remember me") >= 2 }) {
		t.Fatal("the recalled line was not sent again")
	}
	term.typeLine("/quit")
	select {
	case <-term.done:
	case <-time.After(10 * time.Second):
		t.Fatal("duplex connect did not exit after /quit")
	}
}

func TestBenchLiveProgressOnTerminal(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	term := startTerminal(t, "bench", "--duration", "2500ms", "--conns", "2", s.ws("/echo"))
	term.expect("msg/s")      // the live line
	term.expect("messages/s") // the final table
	select {
	case <-term.done:
	case <-time.After(20 * time.Second):
		t.Fatal("bench did not end")
	}
	if !strings.Contains(term.output(), "\r") || !strings.Contains(term.output(), "conns open") {
		t.Errorf("no progress line in the output:\n%q", term.output())
	}
}
