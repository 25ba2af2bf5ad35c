package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/duplexws/websocket"
)

const interactiveHelp = `Commands:
  /ping                 send a ping and show the round trip
  /binary TEXT          send TEXT as a binary message
  /close [CODE [REASON]] close with CODE (default 1000) and REASON, then exit
  /quit                 close with 1000 and exit (Ctrl-D too)
  /help                 this list
Any other line is sent as a text message; start it with // to send a line beginning with /.`

// interactive runs connect on a terminal: line editing and history from
// term.Terminal, received messages printed with their time and type.
func interactive(ctx context.Context, env *cliEnv, in *os.File, c *websocket.Conn, url, binaryAs string) error {
	old, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		c.CloseNow()
		return fmt.Errorf("terminal: %w", err)
	}
	defer term.Restore(int(in.Fd()), old)
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{in, env.stdout}, "> ")
	if w, h, err := term.GetSize(int(in.Fd())); err == nil {
		t.SetSize(w, h)
	}
	info := ""
	if p := c.Subprotocol(); p != "" {
		info += ", subprotocol " + p
	}
	if e := c.Extensions(); e != "" {
		info += ", extensions " + e
	}
	fmt.Fprintf(t, "connected to %s%s; /help for commands\n", url, info)

	mr := startReading(c)
	readErr := make(chan error, 1)
	go func() {
		readErr <- mr.each(func(typ websocket.MessageType, p []byte) {
			stamp := time.Now().Format("15:04:05.000")
			if typ == websocket.MessageText {
				fmt.Fprintf(t, "%s < text: %s\n", stamp, p)
			} else {
				fmt.Fprintf(t, "%s < binary (%d bytes): %s\n", stamp, len(p), formatBinary(p, binaryAs))
			}
		})
	}()
	lines := make(chan string)
	lineErr := make(chan error, 1)
	go func() {
		for {
			line, err := t.ReadLine()
			if err != nil {
				lineErr <- err
				return
			}
			lines <- line
		}
	}()

	s := &session{ctx: ctx, t: t, c: c}
	for {
		select {
		case err := <-readErr:
			fmt.Fprintf(t, "%s\n", describeEnd(err))
			return interactiveExit(err)
		case <-lineErr:
			return s.close(readErr, websocket.StatusNormalClosure, "")
		case <-ctx.Done():
			return s.close(readErr, websocket.StatusNormalClosure, "")
		case line := <-lines:
			if code, reason, quit := s.handle(line); quit {
				return s.close(readErr, code, reason)
			}
		}
	}
}

// session is the state the interactive commands act on.
type session struct {
	ctx context.Context
	t   *term.Terminal
	c   *websocket.Conn
}

// handle runs one typed line. quit is true when the line asks to close.
func (s *session) handle(line string) (code websocket.StatusCode, reason string, quit bool) {
	send := func(typ websocket.MessageType, p string) {
		if err := s.c.Write(s.ctx, typ, []byte(p)); err != nil {
			fmt.Fprintf(s.t, "send failed: %v\n", err)
		}
	}
	if !strings.HasPrefix(line, "/") || strings.HasPrefix(line, "//") {
		send(websocket.MessageText, strings.TrimPrefix(line, "/"))
		return 0, "", false
	}
	cmd, rest, _ := strings.Cut(line, " ")
	switch cmd {
	case "/help":
		fmt.Fprintln(s.t, interactiveHelp)
	case "/binary":
		send(websocket.MessageBinary, rest)
	case "/ping":
		go func() {
			start := time.Now()
			ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
			defer cancel()
			if err := s.c.Ping(ctx); err != nil {
				fmt.Fprintf(s.t, "ping failed: %v\n", err)
				return
			}
			fmt.Fprintf(s.t, "pong after %v\n", time.Since(start).Round(time.Microsecond))
		}()
	case "/quit":
		return websocket.StatusNormalClosure, "", true
	case "/close":
		codeText, reason, _ := strings.Cut(strings.TrimSpace(rest), " ")
		if codeText == "" {
			return websocket.StatusNormalClosure, "", true
		}
		n, err := strconv.Atoi(codeText)
		if err != nil || !sendableCode(n) {
			fmt.Fprintf(s.t, "bad close code %q: use 1000-1003, 1007-1014 or 3000-4999\n", codeText)
			return 0, "", false
		}
		if len(reason) > 123 {
			fmt.Fprintln(s.t, "a close reason has at most 123 bytes")
			return 0, "", false
		}
		return websocket.StatusCode(n), reason, true
	default:
		fmt.Fprintf(s.t, "unknown command %s; /help lists them\n", cmd)
	}
	return 0, "", false
}

// sendableCode tells whether an endpoint may put code in a close frame
// (RFC 6455 §7.4).
func sendableCode(n int) bool {
	switch {
	case n >= 1000 && n <= 1003, n >= 1007 && n <= 1014, n >= 3000 && n <= 4999:
		return true
	}
	return false
}

// close runs the closing handshake and reports how it ended.
func (s *session) close(readErr <-chan error, code websocket.StatusCode, reason string) error {
	fmt.Fprintf(s.t, "closing with %d %s\n", int(code), reason)
	cerr := s.c.Close(code, reason)
	rerr := <-readErr
	fmt.Fprintf(s.t, "%s\n", describeEnd(rerr))
	if cerr != nil && !errors.Is(cerr, websocket.ErrClosed) {
		return fmt.Errorf("closing handshake: %w", cerr)
	}
	return nil
}

// describeEnd tells in words why reading stopped.
func describeEnd(err error) string {
	if ce := closeError(err); ce != nil {
		return fmt.Sprintf("closed: %s %s", ce.Code, ce.Reason)
	}
	return fmt.Sprintf("connection ended: %v", err)
}

// interactiveExit maps a close by the server to the exit status: normal
// closures and going-away are a success.
func interactiveExit(err error) error {
	if ce := closeError(err); ce != nil &&
		(ce.Code == websocket.StatusNormalClosure || ce.Code == websocket.StatusGoingAway) {
		return nil
	}
	return fmt.Errorf("connection ended: %w", err)
}
