package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultTimeout is how long a script runs when Script.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// Script is a program for a peer's interpreter.
type Script struct {
	// Source is the program text. It is used when File is empty.
	Source string
	// File is the path of the program, relative to the test's package
	// directory (for example "testdata/echo_server.py").
	File string
	// Args are passed to the program after its name.
	Args []string
	// Env holds extra KEY=VALUE entries added to the test's environment.
	Env []string
	// Timeout bounds the run: the process is killed after it. Zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// Process is a running peer script. Its standard output is kept line by line
// and its standard error as text; both are logged if the test fails.
type Process struct {
	name string
	out  *lineWriter
	done chan struct{} // closed when the process has exited
	err  error         // exit error, set before done is closed

	mu      sync.Mutex
	lines   []string      // standard output lines, in order
	next    int           // index of the next line Line returns
	grew    chan struct{} // closed and replaced when lines grows or output ends
	outDone bool          // standard output reached EOF
	stderr  strings.Builder
}

// StartPython runs s with a python3 that has the websockets library; the
// script finds its arguments in sys.argv[1:]. The test is skipped (or failed
// in CI) when there is none.
func StartPython(t testing.TB, s Script) *Process {
	t.Helper()
	f := Require(t, Python)
	return start(t, f, Python, []string{"-u"}, ".py", s)
}

// StartNode runs s with node, where require('ws') loads the pinned ws
// package; the script finds its arguments in process.argv.slice(2). The test
// is skipped (or failed in CI) when either is missing.
func StartNode(t testing.TB, s Script) *Process {
	t.Helper()
	f := Require(t, Node)
	return start(t, f, Node, nil, ".js", s)
}

// start runs f.Path with the interpreter flags, the script file (Source is
// first written to a file with extension ext) and the script's arguments.
func start(t testing.TB, f Found, name Peer, flags []string, ext string, s Script) *Process {
	t.Helper()
	if f.Path == "" {
		// Require skipped or failed the test; nothing to run.
		return nil
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	file := s.File
	if file == "" {
		if s.Source == "" {
			t.Fatalf("peer %s: the script has neither Source nor File", name)
		}
		file = filepath.Join(t.TempDir(), "script"+ext)
		if err := os.WriteFile(file, []byte(s.Source), 0o600); err != nil {
			t.Fatalf("peer %s: %v", name, err)
		}
	}
	args := append(append(append([]string(nil), flags...), file), s.Args...)

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, f.Path, args...)
	cmd.Env = append(append(os.Environ(), f.Env...), s.Env...)
	cmd.WaitDelay = 5 * time.Second
	p := &Process{name: string(name), done: make(chan struct{}), grew: make(chan struct{})}
	p.out = &lineWriter{p: p}
	cmd.Stdout = p.out
	cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.stderr}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("peer %s: start %s: %v", name, f.Path, err)
	}
	go func() {
		err := cmd.Wait()
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("killed after its timeout of %v: %w", timeout, err)
		}
		p.err = err
		cancel()
		p.endOutput()
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
		if t.Failed() {
			t.Logf("peer %s output:\n%s", name, p.Output())
		}
	})
	return p
}

// lineWriter splits the script's standard output into lines.
type lineWriter struct {
	p       *Process
	partial []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	n := len(b)
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			w.partial = append(w.partial, b...)
			return n, nil
		}
		w.partial = append(w.partial, b[:i]...)
		w.p.lines = append(w.p.lines, strings.TrimSuffix(string(w.partial), "\r"))
		w.partial = w.partial[:0]
		b = b[i+1:]
		close(w.p.grew)
		w.p.grew = make(chan struct{})
	}
}

// endOutput marks standard output as finished, keeping an unterminated last line.
func (p *Process) endOutput() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.out.partial) > 0 {
		p.lines = append(p.lines, string(p.out.partial))
	}
	p.outDone = true
	close(p.grew)
	p.grew = make(chan struct{})
}

// ErrNoMoreLines is returned by Process.Line when the script's standard output
// has ended.
var ErrNoMoreLines = errors.New("peer: the script's output ended")

// Line returns the next line the script wrote to standard output, waiting
// for it until ctx is done.
func (p *Process) Line(ctx context.Context) (string, error) {
	for {
		p.mu.Lock()
		if p.next < len(p.lines) {
			l := p.lines[p.next]
			p.next++
			p.mu.Unlock()
			return l, nil
		}
		ended, grew := p.outDone, p.grew
		p.mu.Unlock()
		if ended {
			return "", fmt.Errorf("peer %s: %w\n%s", p.name, ErrNoMoreLines, p.Output())
		}
		select {
		case <-grew:
		case <-ctx.Done():
			return "", fmt.Errorf("peer %s: waiting for a line: %w\n%s", p.name, ctx.Err(), p.Output())
		}
	}
}

// Wait waits for the script to exit, at most until its timeout or until ctx
// is done, and returns its exit error, which includes what it printed.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
	case <-ctx.Done():
		return fmt.Errorf("peer %s: waiting for exit: %w\n%s", p.name, ctx.Err(), p.Output())
	}
	if p.err != nil {
		return fmt.Errorf("peer %s: %w\n%s", p.name, p.err, p.Output())
	}
	return nil
}

// Output returns everything the script has printed so far: standard output,
// then standard error.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "--- stdout\n" + strings.Join(p.lines, "\n") + "\n--- stderr\n" + p.stderr.String()
}

// lockedWriter serializes writes to w under mu, which also guards reads of w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
