package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/duplexws/websocket"
)

// connectFlags are the flags of duplex connect.
type connectFlags struct {
	subprotocols   listFlag
	headers        headerFlag
	origin         string
	proxy          string
	insecure       bool
	caCert         string
	noDeflate      bool
	pingInterval   time.Duration
	maxMessage     byteSizeFlag
	binaryAs       string
	connectTimeout time.Duration
	linger         time.Duration
	http2          bool
}

func runConnect(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "connect", "[flags] URL",
		"Connect to a WebSocket server. Each line of stdin is sent as a text message and each\n"+
			"text message received is printed as one line on stdout (binary ones in hex or base64).\n"+
			"When stdin ends, duplex closes with 1000, waits for the closing handshake and exits 0;\n"+
			"a server that closes first with a code other than 1000 or 1001 makes it exit 1.\n"+
			"When stdin is a terminal, an interactive mode with line editing and history starts;\n"+
			"type /help there for its commands.")
	var f connectFlags
	fs.Var(&f.subprotocols, "subprotocol", "subprotocol to offer (`a,b`; repeatable)")
	fs.Var(&f.headers, "header", "extra handshake header `'Key: Value'` (repeatable)")
	fs.Var(&f.headers, "H", "short for --header `'Key: Value'`")
	fs.StringVar(&f.origin, "origin", "", "Origin header to send")
	fs.StringVar(&f.proxy, "proxy", "", "HTTP proxy `URL` to tunnel through (default: $HTTPS_PROXY/$HTTP_PROXY)")
	fs.BoolVar(&f.insecure, "insecure", false, "skip TLS certificate verification (wss)")
	fs.StringVar(&f.caCert, "cacert", "", "trust the server certificates signed by the PEM certificates in `FILE` (wss), as the one duplex serve --tls-self-signed writes")
	fs.BoolVar(&f.noDeflate, "no-deflate", false, "do not offer permessage-deflate")
	fs.BoolVar(&f.http2, "http2", false, "open the WebSocket as a stream of an HTTP/2 connection (RFC 8441; h2c for ws:// URLs), falling back to HTTP/1.1 when the server does not offer it; the protocol used is printed")
	fs.DurationVar(&f.pingInterval, "ping-interval", 0, "send a ping this often and fail when no pong comes back (0 = never)")
	fs.Var(&f.maxMessage, "max-message", "largest message accepted, in `bytes` (64k, 16M...; 0 = 32M, -1 = none)")
	fs.StringVar(&f.binaryAs, "binary-as", "hex", "how to print binary messages: hex or base64")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", 30*time.Second, "bound on the opening handshake")
	fs.DurationVar(&f.linger, "linger", 250*time.Millisecond, "after stdin ends, wait until no message has come for this long (at most 20 times as long) before closing, so that late answers are printed")
	u, err := urlArg(fs, args)
	if err != nil {
		return err
	}
	if err := oneOf("binary-as", f.binaryAs, "hex", "base64"); err != nil {
		return err
	}
	if err := checkFlags(notNegative("ping-interval", f.pingInterval), positive("connect-timeout", f.connectTimeout),
		notNegative("linger", f.linger)); err != nil {
		return err
	}
	opts, err := f.dialOptions()
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, f.connectTimeout)
	c, resp, err := websocket.Dial(dctx, u.String(), opts)
	cancel()
	if err != nil {
		return dialError(err, resp)
	}
	if in, ok := env.stdin.(*os.File); ok && term.IsTerminal(int(in.Fd())) {
		return interactive(ctx, env, in, c, u.String()+" over "+resp.Proto, f.binaryAs)
	}
	fmt.Fprintf(env.stderr, "duplex connect: connected to %s over %s; subprotocol: %s; extensions: %s\n",
		u, resp.Proto, orNone(c.Subprotocol()), orNone(c.Extensions()))
	return pipeSession(ctx, env, c, f.binaryAs, f.linger)
}

func (f *connectFlags) dialOptions() (*websocket.DialOptions, error) {
	o := &websocket.DialOptions{
		HTTPHeader:   f.headers.h,
		Origin:       f.origin,
		Subprotocols: f.subprotocols,
		ReadLimit:    int64(f.maxMessage),
		PingInterval: f.pingInterval,
	}
	if h := o.HTTPHeader.Get("Host"); h != "" {
		o.Host = h
		o.HTTPHeader.Del("Host")
	}
	if !f.noDeflate {
		o.Compression = &websocket.CompressionOptions{}
	}
	tc, err := clientTLS(f.insecure, f.caCert)
	if err != nil {
		return nil, err
	}
	o.TLSConfig = tc
	if f.http2 {
		o.HTTP2 = &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}
	}
	if f.proxy != "" {
		pu, err := url.Parse(f.proxy)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, usagef("bad --proxy %q: want http://HOST:PORT", f.proxy)
		}
		o.Proxy = http.ProxyURL(pu)
	}
	return o, nil
}

// dialError says why Dial failed: the status and the server's reason for a
// refused handshake, what was wrong with a 101 answer that does not fit the
// request, and the flags that get past a certificate the client does not trust.
func dialError(err error, resp *http.Response) error {
	var he *websocket.HandshakeError
	if !errors.As(err, &he) || resp == nil {
		return certificateHint(err)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return fmt.Errorf("bad handshake answer: %s", he.Reason)
	}
	msg := "handshake refused: HTTP " + resp.Status
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if reason := bodySummary(resp.Header.Get("Content-Type"), body); reason != "" {
		msg += ": " + reason
	}
	return errors.New(msg)
}

// maxReasonLen bounds the part of a refusal's body that connect shows.
const maxReasonLen = 500

// bodySummary returns what to show of the body of a refused handshake on
// one line: the title of an HTML page (or its first line of text when it has
// no title), the first line of anything else.
func bodySummary(contentType string, body []byte) string {
	s := string(body)
	lower := strings.ToLower(s)
	isHTML := strings.Contains(strings.ToLower(contentType), "html") ||
		strings.HasPrefix(strings.TrimSpace(lower), "<!doctype html") || strings.HasPrefix(strings.TrimSpace(lower), "<html")
	if isHTML {
		if i := strings.Index(lower, "<title"); i >= 0 {
			if j := strings.IndexByte(lower[i:], '>'); j >= 0 {
				rest := s[i+j+1:]
				if k := strings.Index(strings.ToLower(rest), "</title"); k >= 0 {
					if t := squeeze(html.UnescapeString(rest[:k])); t != "" {
						return clip(t)
					}
				}
			}
		}
		s = html.UnescapeString(stripTags(s))
	}
	for _, line := range strings.Split(s, "\n") {
		if line = squeeze(line); line != "" {
			return clip(line)
		}
	}
	return ""
}

// stripTags removes the markup of an HTML page, and the content of its
// head, scripts and styles, leaving its text.
func stripTags(s string) string {
	lower := strings.ToLower(s)
	for _, el := range []string{"head", "script", "style"} {
		from := 0
		for {
			i := strings.Index(lower[from:], "<"+el)
			if i < 0 {
				break
			}
			i += from
			if next := i + 1 + len(el); next < len(lower) && lower[next] != '>' && lower[next] != ' ' {
				from = next // <header> is not <head>
				continue
			}
			j := strings.Index(lower[i:], "</"+el+">")
			if j < 0 {
				s, lower = s[:i], lower[:i]
				break
			}
			end := i + j + len(el) + 3
			s, lower = s[:i]+s[end:], lower[:i]+lower[end:]
			from = i
		}
	}
	var b strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
		case r == '>' && inTag:
			inTag = false
			b.WriteByte('\n')
		case !inTag:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// squeeze collapses the runs of white space in s into single spaces.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// clip cuts s to maxReasonLen bytes, at a rune boundary, marking the cut.
func clip(s string) string {
	if len(s) <= maxReasonLen {
		return s
	}
	cut := maxReasonLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// pipeSession runs connect with stdin and stdout as plain streams.
func pipeSession(ctx context.Context, env *cliEnv, c *websocket.Conn, binaryAs string, linger time.Duration) error {
	mr := startReading(c)
	readErr := make(chan error, 1)
	var lastMessage atomic.Int64 // UnixNano of the last message received
	go func() {
		out := bufio.NewWriter(env.stdout)
		readErr <- mr.each(func(typ websocket.MessageType, p []byte) {
			lastMessage.Store(time.Now().UnixNano())
			if typ == websocket.MessageText {
				out.Write(p)
			} else {
				out.WriteString(formatBinary(p, binaryAs))
			}
			out.WriteByte('\n')
			out.Flush()
		})
	}()
	stdinDone := make(chan error, 1)
	go func() { stdinDone <- sendLines(ctx, c, env.stdin) }()

	select {
	case err := <-readErr:
		// The server closed first (or the connection broke).
		return peerClosed(env, err)
	case err := <-stdinDone:
		if err != nil && !errors.Is(err, websocket.ErrClosed) {
			c.CloseNow()
			<-readErr
			return err
		}
		if err := awaitQuiet(ctx, readErr, &lastMessage, linger); err != nil {
			return peerClosed(env, err)
		}
	case <-ctx.Done():
	}
	<-mr.ready
	cerr := c.Close(websocket.StatusNormalClosure, "")
	rerr := <-readErr
	if ce := closeError(rerr); ce != nil && ce.Code != websocket.StatusNormalClosure {
		return peerClosed(env, rerr)
	}
	if cerr != nil && !errors.Is(cerr, websocket.ErrClosed) {
		return fmt.Errorf("closing handshake: %w", cerr)
	}
	return nil
}

// awaitQuiet waits until no message has arrived for linger, at most 20
// times linger. The answers to the last lines sent are then printed before
// the close: Close discards the messages that arrive while it waits for the
// server's close frame. It returns the read error if the server closes meanwhile.
func awaitQuiet(ctx context.Context, readErr <-chan error, last *atomic.Int64, linger time.Duration) error {
	if linger <= 0 {
		return nil
	}
	start := time.Now()
	limit := start.Add(20 * linger)
	for {
		quietSince := max(start.UnixNano(), last.Load())
		wake := time.Unix(0, quietSince).Add(linger)
		if !wake.After(time.Now()) || time.Now().After(limit) {
			return nil
		}
		t := time.NewTimer(min(time.Until(wake), time.Until(limit)))
		select {
		case err := <-readErr:
			t.Stop()
			return err
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// messageReader reads the messages of a connection in a goroutine of its
// own that does nothing else, so that it is back in Read at once after each
// message while another goroutine prints: the window in which Close, which
// reads (and discards) by itself when no Read is in progress, could take a
// message the user should see stays as small as it can be.
type messageReader struct {
	ready chan struct{} // closed just before the first Read
	msgs  chan received
	err   error // why reading stopped, set before msgs is closed
}

type received struct {
	typ websocket.MessageType
	p   []byte
}

func startReading(c *websocket.Conn) *messageReader {
	mr := &messageReader{ready: make(chan struct{}), msgs: make(chan received, 1024)}
	go func() {
		defer close(mr.msgs)
		close(mr.ready)
		for {
			typ, p, err := c.Read(context.Background())
			if err != nil {
				mr.err = err
				return
			}
			mr.msgs <- received{typ, p}
		}
	}()
	return mr
}

// each hands every message to emit until reading stops, and returns why it stopped.
func (mr *messageReader) each(emit func(websocket.MessageType, []byte)) error {
	for m := range mr.msgs {
		emit(m.typ, m.p)
	}
	return mr.err
}

// sendLines sends every line of r as a text message (lines that are not UTF-8
// as binary messages) until r ends.
func sendLines(ctx context.Context, c *websocket.Conn, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 || err == nil {
			line = trimEOL(line)
			typ := websocket.MessageText
			if !utf8.Valid(line) {
				typ = websocket.MessageBinary
			}
			if werr := c.Write(ctx, typ, line); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// closeError returns the *CloseError in err's chain, or nil.
func closeError(err error) *websocket.CloseError {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

// peerClosed reports how the server ended the connection: nil for 1000 and
// 1001, an error otherwise. The close code and reason go to stderr.
func peerClosed(env *cliEnv, err error) error {
	ce := closeError(err)
	if ce == nil {
		return fmt.Errorf("connection lost: %w", err)
	}
	desc := ce.Code.String()
	if ce.Reason != "" {
		desc += ": " + ce.Reason
	}
	switch ce.Code {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway:
		fmt.Fprintf(env.stderr, "duplex connect: closed by the server: %s\n", desc)
		return nil
	}
	return fmt.Errorf("closed by the server: %s", desc)
}

// formatBinary renders a binary message for a line of text.
func formatBinary(p []byte, as string) string {
	if as == "base64" {
		return base64.StdEncoding.EncodeToString(p)
	}
	return hex.EncodeToString(p)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
