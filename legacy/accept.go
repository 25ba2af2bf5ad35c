package legacy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	websocket "github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/wsconn"
	"github.com/duplexws/websocket/internal/wshttp"
)

// keyBodyTimeout bounds the wait for the 8 key bytes that follow the
// handshake's headers, and the writing of the answer.
const keyBodyTimeout = 10 * time.Second

// AcceptOptions configures Accept. A nil *AcceptOptions means all defaults.
type AcceptOptions struct {
	// Subprotocols lists the subprotocols the server speaks. A hixie-76
	// client asks for at most one, in Sec-WebSocket-Protocol; if it is in
	// this list it is echoed, and Conn.Subprotocol returns it. Otherwise the
	// answer names none, which the draft's clients take as a failed
	// handshake. Default: none.
	Subprotocols []string
	// OriginPatterns lists host patterns (path.Match syntax, compared
	// case-insensitively) of the origins allowed besides the request's own
	// host; a pattern containing "://" is matched against scheme://host.
	// Requests without an Origin header are always allowed. Default: only
	// the request's own host.
	OriginPatterns []string
	// InsecureSkipOriginCheck accepts any Origin, exposing the server to
	// cross-site WebSocket hijacking. Default: false.
	InsecureSkipOriginCheck bool
	// ResponseHeader holds extra headers for the 101 answer. Header names
	// Accept writes itself (Upgrade, Connection, Sec-WebSocket-*) are
	// ignored, as are Host and Origin. Default: none.
	ResponseHeader http.Header
	// ReadLimit is the largest message Read and Reader accept, in bytes;
	// 0 means 32 MiB and -1 means no limit. Conn.SetReadLimit changes it.
	ReadLimit int64
	// CloseTimeout bounds the closing handshake; 0 means 5 seconds.
	CloseTimeout time.Duration
	// OnRefuse, when set, answers the requests Accept refuses instead of
	// the default plain-text answer, as the core's AcceptOptions.OnRefuse:
	// it is given err, whose Status is the status to answer (403 for a
	// forbidden origin) and Reason the explanation, with the headers that
	// status calls for (Allow) already set on w, and must write the answer.
	// Nil by default.
	OnRefuse func(w http.ResponseWriter, r *http.Request, err *websocket.HandshakeError)
}

// IsHixie76 reports whether r asks for a hixie-76 WebSocket: a GET with
// Upgrade: WebSocket, Connection: Upgrade and the Sec-WebSocket-Key1 and
// Sec-WebSocket-Key2 headers, and without RFC 6455's Sec-WebSocket-Key.
// Serve such a request with Accept and every other one with the core's
// websocket.Accept.
func IsHixie76(r *http.Request) bool {
	return r.Method == http.MethodGet &&
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		wshttp.HasToken(r.Header, "Connection", "upgrade") &&
		r.Header.Get("Sec-WebSocket-Key1") != "" &&
		r.Header.Get("Sec-WebSocket-Key2") != "" &&
		r.Header.Get("Sec-WebSocket-Key") == ""
}

// Accept completes a hixie-76 opening handshake (draft-hixie-76 §5.2) and
// takes over the connection. It checks the Origin as the core does, computes
// the answer to the client's keys and sends it in a 101 response with
// Sec-WebSocket-Origin, Sec-WebSocket-Location (wss when r arrived over TLS)
// and Sec-WebSocket-Protocol if one was agreed.
//
// A malformed handshake is answered 400, a forbidden origin 403, a method
// other than GET 405, each with a plain-text body saying why (or as
// opts.OnRefuse answers); the returned
// error wraps websocket.ErrBadHandshake and says the same, and there is then
// nothing more to write to w.
func Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*Conn, error) {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return nil, opts.refuse(w, r, http.StatusMethodNotAllowed, "a WebSocket handshake must be a GET request, not "+r.Method)
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return nil, opts.refuse(w, r, http.StatusBadRequest, fmt.Sprintf("the Upgrade header is %q, not WebSocket", r.Header.Get("Upgrade")))
	}
	if !wshttp.HasToken(r.Header, "Connection", "upgrade") {
		return nil, opts.refuse(w, r, http.StatusBadRequest, fmt.Sprintf("the Connection header %q does not contain Upgrade", r.Header.Get("Connection")))
	}
	n1, err := requestKey(r, "Sec-WebSocket-Key1")
	if err != nil {
		return nil, opts.refuse(w, r, http.StatusBadRequest, err.Error())
	}
	n2, err := requestKey(r, "Sec-WebSocket-Key2")
	if err != nil {
		return nil, opts.refuse(w, r, http.StatusBadRequest, err.Error())
	}
	if !opts.InsecureSkipOriginCheck {
		if err := wshttp.CheckOrigin(r.Header.Get("Origin"), r.Host, opts.OriginPatterns); err != nil {
			return nil, opts.refuse(w, r, http.StatusForbidden, err.Error())
		}
	}
	for _, v := range []string{r.Host, r.RequestURI, r.Header.Get("Origin"), r.Header.Get("Sec-WebSocket-Protocol")} {
		// net/http never lets these through, but another server might, and
		// the answer repeats them.
		if strings.ContainsFunc(v, func(c rune) bool { return c < ' ' || c == 0x7f }) {
			return nil, opts.refuse(w, r, http.StatusBadRequest, "the Host, request target, Origin and Sec-WebSocket-Protocol must not contain control characters")
		}
	}
	extra, err := extraHeaders(opts.ResponseHeader, "AcceptOptions.ResponseHeader")
	if err != nil {
		return nil, opts.refuse(w, r, http.StatusInternalServerError, err.Error())
	}
	protocol := ""
	if p := r.Header.Get("Sec-WebSocket-Protocol"); p != "" && slices.Contains(opts.Subprotocols, p) {
		protocol = p
	}

	// The 8 key bytes follow the headers without a Content-Length, so
	// net/http leaves them unread, in the buffer handed over by Hijack. A
	// client that declares them as the body gets them read from r.Body.
	var key3 [8]byte
	keyRead := false
	if r.ContentLength != 0 {
		if r.ContentLength < 0 {
			return nil, opts.refuse(w, r, http.StatusBadRequest, "the request body must be the 8 key bytes, not a body of unknown length")
		}
		if r.ContentLength != int64(len(key3)) {
			return nil, opts.refuse(w, r, http.StatusBadRequest, fmt.Sprintf("the request body must be the 8 key bytes, not %d bytes", r.ContentLength))
		}
		if _, err := io.ReadFull(r.Body, key3[:]); err != nil {
			return nil, opts.refuse(w, r, http.StatusBadRequest, "the 8 key bytes of the request body could not be read: "+err.Error())
		}
		keyRead = true
	}

	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "legacy: this server cannot take over the connection for a WebSocket", http.StatusInternalServerError)
		return nil, fmt.Errorf("legacy: taking over the connection: %w", err)
	}
	// A websocket.Listener's handshake timeout no longer applies.
	wsconn.Claim(nc, r.Context())
	stop := interruptOnDone(r.Context(), nc)
	defer stop()
	_ = nc.SetDeadline(time.Now().Add(keyBodyTimeout))
	if !keyRead {
		if _, err := io.ReadFull(brw.Reader, key3[:]); err != nil {
			msg := "the 8 key bytes that must follow the handshake's headers did not arrive: " + err.Error()
			// The request's context may have ended with the read (net/http
			// ends it when the client stops sending); answer all the same.
			stop()
			_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
			writeRefusal(nc, msg)
			_ = nc.Close()
			return nil, fmt.Errorf("legacy: %w: %s", websocket.ErrBadHandshake, msg)
		}
	}

	answer := challengeAnswer(n1, n2, key3[:])
	var resp bytes.Buffer
	resp.WriteString("HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n")
	if origin := r.Header.Get("Origin"); origin != "" {
		resp.WriteString("Sec-WebSocket-Origin: " + strings.ToLower(origin) + "\r\n")
	}
	resp.WriteString("Sec-WebSocket-Location: " + location(r) + "\r\n")
	if protocol != "" {
		resp.WriteString("Sec-WebSocket-Protocol: " + protocol + "\r\n")
	}
	resp.WriteString(extra)
	resp.WriteString("\r\n")
	resp.Write(answer[:])
	if _, err := nc.Write(resp.Bytes()); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("legacy: writing the handshake answer: %w", err)
	}
	stop()
	_ = nc.SetDeadline(time.Time{})
	return newConn(nc, brw.Reader, protocol, opts.ReadLimit, opts.CloseTimeout), nil
}

// requestKey parses the one value of the key header name.
func requestKey(r *http.Request, name string) (uint32, error) {
	values := r.Header.Values(name)
	switch len(values) {
	case 0:
		return 0, fmt.Errorf("the %s header is missing", name)
	case 1:
	default:
		return 0, fmt.Errorf("the %s header appears %d times", name, len(values))
	}
	n, err := parseKey(values[0])
	if err != nil {
		return 0, fmt.Errorf("%s %q: %w", name, values[0], err)
	}
	return n, nil
}

// location is the URL the client asked for, as Sec-WebSocket-Location
// states it: ws or wss, the Host header and the request target.
func location(r *http.Request) string {
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	target := r.RequestURI
	if !strings.HasPrefix(target, "/") {
		target = r.URL.RequestURI()
	}
	return scheme + "://" + r.Host + target
}

// extraHeaders renders h, the options field named field, as header lines in
// name order. It leaves out the names the handshake writes itself and refuses
// names and values that could break the message apart.
func extraHeaders(h http.Header, field string) (string, error) {
	var b strings.Builder
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}) {
		canon := http.CanonicalHeaderKey(name)
		if canon == "Upgrade" || canon == "Connection" || canon == "Host" || canon == "Origin" || strings.HasPrefix(canon, "Sec-Websocket-") {
			continue
		}
		if !wshttp.IsToken(name) {
			return "", fmt.Errorf("legacy: %s has an invalid header name %q", field, name)
		}
		for _, v := range h[name] {
			if strings.ContainsAny(v, "\r\n\x00") {
				return "", fmt.Errorf("legacy: %s %s has a value with a line break or NUL", field, name)
			}
			b.WriteString(name + ": " + v + "\r\n")
		}
	}
	return b.String(), nil
}

// refuse answers a handshake it cannot accept with status and a plain-text
// reason (or through OnRefuse), and returns the reason as an error.
func (o *AcceptOptions) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) error {
	if o.OnRefuse != nil {
		o.OnRefuse(w, r, &websocket.HandshakeError{Status: status, Reason: reason})
	} else {
		http.Error(w, reason, status)
	}
	return fmt.Errorf("legacy: %w: answered %d: %s", websocket.ErrBadHandshake, status, reason)
}

// writeRefusal answers 400 on a connection already taken over.
func writeRefusal(nc net.Conn, reason string) {
	body := reason + "\n"
	_, _ = io.WriteString(nc, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
}

// interruptOnDone makes the end of ctx interrupt blocking I/O on nc until
// stop is called; stop may be called more than once.
func interruptOnDone(ctx context.Context, nc net.Conn) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	fired := make(chan struct{})
	stopAfter := context.AfterFunc(ctx, func() {
		_ = nc.SetDeadline(wsconn.Past)
		close(fired)
	})
	return sync.OnceFunc(func() {
		if !stopAfter() {
			<-fired
		}
	})
}
