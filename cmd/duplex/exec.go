package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/duplexws/websocket"
)

func runExec(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "exec", "[flags] -- PROGRAM [ARGS...]",
		"Serve WebSocket connections on every path; each connection runs one PROGRAM.\n"+
			"Lines the program writes to stdout become text messages; every message received\n"+
			"becomes one line on its stdin. When the program exits the connection closes with\n"+
			"1000 (1011 if it failed); when the connection closes, stdin is closed and the\n"+
			"program's process group is killed after --kill-grace. The request is described to\n"+
			"the program in CGI-style environment variables (REMOTE_ADDR, QUERY_STRING, HTTP_*...).")
	var sf serverFlags
	sf.register(fs)
	binary := fs.Bool("binary", false, "pass raw chunks both ways (binary messages) instead of lines")
	maxProcs := fs.Int("max-procs", 0, "most programs running at once; handshakes beyond get 503 (0 = no limit)")
	grace := fs.Duration("kill-grace", 2*time.Second, "after the connection closes, how long the program may run on before SIGTERM (and as long again before SIGKILL)")
	pos, err := sf.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("no PROGRAM given")
	}
	if err := checkFlags(notNegative("max-procs", *maxProcs), positive("kill-grace", *grace)); err != nil {
		return err
	}
	prog, err := exec.LookPath(pos[0])
	if err != nil {
		return usagef("program %q not found", pos[0])
	}
	log := sf.logger(env)
	conns := newConnSet(*maxProcs)
	h := &execHandler{
		prog: prog, args: pos[1:], binary: *binary, grace: *grace,
		opts: sf.acceptOptions(), conns: conns, log: log, stderr: env.stderr,
		https: sf.tlsCert != "" || sf.tlsSelfSigned,
	}
	return sf.serveHTTP(ctx, env, log, h, conns, nil, nil)
}

// execHandler runs one program per WebSocket connection.
type execHandler struct {
	prog   string
	args   []string
	binary bool
	grace  time.Duration
	https  bool
	opts   *websocket.AcceptOptions
	conns  *connSet
	log    *slog.Logger
	stderr io.Writer
}

func (h *execHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.conns.enter(r) {
		h.conns.tooBusy(w, h.log, r, "too many programs running")
		return
	}
	defer h.conns.leave()
	c, err := websocket.Accept(w, r, h.opts)
	if err != nil {
		h.log.Info("handshake failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	defer h.conns.untrack(h.conns.track(func() { c.Close(websocket.StatusGoingAway, "server shutting down") }))

	cmd := exec.Command(h.prog, h.args...)
	cmd.Env = append(os.Environ(), cgiEnv(r, h.https)...)
	cmd.Stderr = h.stderr
	inOwnGroup(cmd)
	stdin, err1 := cmd.StdinPipe()
	stdout, err2 := cmd.StdoutPipe()
	if err := errors.Join(err1, err2); err != nil {
		h.log.Error("cannot make pipes", "err", err)
		c.Close(websocket.StatusInternalError, "cannot start the program")
		return
	}
	if err := cmd.Start(); err != nil {
		h.log.Error("cannot start the program", "program", h.prog, "err", err)
		c.Close(websocket.StatusInternalError, "cannot start the program")
		return
	}
	log := h.log.With("remote", r.RemoteAddr, "pid", cmd.Process.Pid)
	log.Info("program started", "uri", r.RequestURI)

	ctx := r.Context()
	connGone := make(chan struct{})
	go func() {
		defer close(connGone)
		defer stdin.Close()
		h.toProgram(ctx, c, stdin)
	}()
	exited := make(chan struct{})
	go h.reap(cmd.Process.Pid, connGone, exited)

	h.fromProgram(ctx, c, stdout)
	werr := cmd.Wait()
	close(exited)
	code := cmd.ProcessState.ExitCode()
	log.Info("program exited", "status", cmd.ProcessState.String())
	if werr == nil {
		c.Close(websocket.StatusNormalClosure, "")
	} else {
		c.Close(websocket.StatusInternalError, fmt.Sprintf("program %s", exitText(cmd.ProcessState, code)))
	}
	<-connGone
}

func exitText(ps *os.ProcessState, code int) string {
	if code >= 0 {
		return fmt.Sprintf("exited with status %d", code)
	}
	return ps.String()
}

// toProgram copies every message to the program's stdin, each followed by a
// newline unless --binary, until the connection closes.
func (h *execHandler) toProgram(ctx context.Context, c *websocket.Conn, stdin io.Writer) {
	bw := bufio.NewWriterSize(stdin, 4096)
	for {
		_, r, err := c.Reader(ctx)
		if err != nil {
			return
		}
		_, err = io.Copy(bw, r)
		if err == nil && !h.binary {
			err = bw.WriteByte('\n')
		}
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			// The program stopped reading its stdin, or the message broke
			// off, which the next Reader reports. Drop the messages that
			// follow but keep reading the connection, never dropping it:
			// the program's last output still goes out, then the close.
			bw.Reset(io.Discard)
		}
	}
}

// fromProgram sends the program's stdout as messages until it ends. Lines that
// are not UTF-8 go out as binary messages, since text must be UTF-8.
func (h *execHandler) fromProgram(ctx context.Context, c *websocket.Conn, stdout io.Reader) {
	dead := false
	send := func(p []byte) {
		if dead {
			// The connection is gone: drain stdout so the program is not
			// blocked on it while it is being stopped.
			return
		}
		typ := websocket.MessageText
		if h.binary || !utf8.Valid(p) {
			typ = websocket.MessageBinary
		}
		dead = c.Write(ctx, typ, p) != nil
	}
	if h.binary {
		buf := make([]byte, 32<<10)
		for {
			n, err := stdout.Read(buf)
			if n > 0 {
				send(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}
	br := bufio.NewReaderSize(stdout, 32<<10)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: gather it whole.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			send(trimEOL(line))
		}
		if err != nil {
			return
		}
	}
}

// trimEOL drops a trailing "\n" or "\r\n".
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// reap ends the program's process group when the connection has gone and the
// program has not exited within the grace period: SIGTERM, then SIGKILL.
func (h *execHandler) reap(pid int, connGone, exited <-chan struct{}) {
	select {
	case <-exited:
		return
	case <-connGone:
	}
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Kill} {
		t := time.NewTimer(h.grace)
		select {
		case <-exited:
			t.Stop()
			return
		case <-t.C:
		}
		h.log.Info("stopping the program", "pid", pid, "signal", sig.String())
		signalGroup(pid, sig)
	}
}

// cgiEnv describes the request in the environment variables websocketd and
// CGI programs expect.
func cgiEnv(r *http.Request, https bool) []string {
	remoteHost, remotePort, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		remoteHost = r.RemoteAddr
	}
	serverName, serverPort, err := net.SplitHostPort(r.Host)
	if err != nil {
		serverName = r.Host
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(la.String()); err == nil {
			serverPort = p
		}
	}
	env := []string{
		"GATEWAY_INTERFACE=CGI/1.1",
		"SERVER_SOFTWARE=duplex",
		"SERVER_PROTOCOL=" + r.Proto,
		"SERVER_NAME=" + serverName,
		"SERVER_PORT=" + serverPort,
		"REMOTE_ADDR=" + remoteHost,
		"REMOTE_HOST=" + remoteHost,
		"REMOTE_PORT=" + remotePort,
		"REQUEST_METHOD=" + r.Method,
		"REQUEST_URI=" + r.RequestURI,
		"SCRIPT_NAME=",
		"PATH_INFO=" + r.URL.Path,
		"QUERY_STRING=" + r.URL.RawQuery,
	}
	if https {
		env = append(env, "HTTPS=on")
	}
	var hdr []string
	for k, vs := range r.Header {
		hdr = append(hdr, "HTTP_"+envName(k)+"="+strings.Join(vs, ", "))
	}
	sort.Strings(hdr)
	return append(env, hdr...)
}

// envName turns a header name into the tail of a CGI variable name:
// Sec-WebSocket-Key becomes SEC_WEBSOCKET_KEY.
func envName(k string) string {
	b := []byte(strings.ToUpper(k))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	return string(b)
}
