package wshttp

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duplexws/websocket/internal/wsconn"
)

// IsUpgrade reports whether r asks for a WebSocket: an HTTP/1.1 request
// with the tokens Connection: upgrade and Upgrade: websocket, or an HTTP/2
// extended CONNECT for the websocket protocol (RFC 8441).
func IsUpgrade(r *http.Request) bool {
	if r.ProtoMajor == 2 {
		return r.Method == http.MethodConnect && strings.EqualFold(r.Header.Get(":protocol"), "websocket")
	}
	return HasToken(r.Header, "Connection", "upgrade") && HasToken(r.Header, "Upgrade", "websocket")
}

// CheckUpgrade checks an HTTP/1.1 opening handshake request (RFC 6455
// §4.2.1) and returns its protocol version and the origin it names: Origin,
// or hybi's Sec-WebSocket-Origin below version 13. legacy lists the versions
// accepted besides 13.
func CheckUpgrade(r *http.Request, legacy []int) (version int, origin string, rf *Refusal) {
	if r.Method != http.MethodGet {
		return 0, "", refusef(http.StatusMethodNotAllowed, "method %s is not GET", r.Method)
	}
	if !r.ProtoAtLeast(1, 1) {
		return 0, "", refusef(http.StatusBadRequest, "protocol %s is older than HTTP/1.1", r.Proto)
	}
	// RFC 6455 §11.3.1 and §11.3.5 (RFC 6454 §7 for Origin): these appear
	// at most once. A second copy is refused, not ignored: which one a proxy
	// in between would have honoured is anyone's guess.
	if name := Repeated(r.Header, "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Origin", "Sec-WebSocket-Origin"); name != "" {
		return 0, "", refusef(http.StatusBadRequest, "%s appears more than once; RFC 6455 allows one", name)
	}
	if !HasToken(r.Header, "Connection", "upgrade") {
		return 0, "", refusef(http.StatusBadRequest, "Connection header %q does not contain the token upgrade", r.Header.Get("Connection"))
	}
	if !HasToken(r.Header, "Upgrade", "websocket") {
		return 0, "", refusef(http.StatusBadRequest, "Upgrade header %q does not contain the token websocket", r.Header.Get("Upgrade"))
	}
	vs := Field(r.Header, "Sec-WebSocket-Version")
	version, err := strconv.Atoi(vs)
	if err != nil || (version != 13 && !slices.Contains(legacy, version)) {
		return 0, "", refusef(http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version %q; this server speaks %s", vs, SupportedVersions(legacy))
	}
	key := Field(r.Header, "Sec-WebSocket-Key")
	if !validKey(key) {
		return 0, "", refusef(http.StatusBadRequest, "Sec-WebSocket-Key %q is not 16 bytes in base64", key)
	}
	if version < 13 {
		return version, Field(r.Header, "Sec-WebSocket-Origin"), nil
	}
	return version, r.Header.Get("Origin"), nil
}

// validKey reports whether key is 16 bytes in base64 (RFC 6455 §4.1):
// 24 characters, padded, which decode into a buffer on the stack.
func validKey(key string) bool {
	var raw [18]byte
	if len(key) != 24 {
		return false
	}
	n, err := base64.StdEncoding.Decode(raw[:], []byte(key))
	return err == nil && n == 16
}

// SupportedVersions lists the versions a server accepts, newest first:
// 13, and those of legacy among 8 and 7.
func SupportedVersions(legacy []int) string {
	vs := []string{"13"}
	for _, v := range []int{8, 7} {
		if slices.Contains(legacy, v) {
			vs = append(vs, strconv.Itoa(v))
		}
	}
	return strings.Join(vs, ", ")
}

// ChooseSubprotocol returns the subprotocol a server agrees to: when choose
// is set, its pick among those the client offered (in the client's order),
// which must be one of them (RFC 6455 §4.2.2); else the first of supported
// that the client offered. "" is none.
func ChooseSubprotocol(r *http.Request, supported []string, choose func(r *http.Request, offered []string) string) (string, *Refusal) {
	offered := Tokens(r.Header, "Sec-WebSocket-Protocol")
	if choose != nil {
		s := choose(r, offered)
		if s != "" && !slices.Contains(offered, s) {
			return "", refusef(http.StatusInternalServerError, "AcceptOptions.SelectSubprotocol chose %q, which the client did not offer", s)
		}
		return s, nil
	}
	for _, s := range supported {
		if slices.Contains(offered, s) {
			return s, nil
		}
	}
	return "", nil
}

// SetRefusalHeaders sets on h the headers that refusing r with status calls
// for, over either HTTP version: Allow with a 405, and the versions the
// server speaks (13 and those of legacy) with a 426 (RFC 6455 §4.4) or,
// over HTTP/2 (which has no 426), with a 400.
func SetRefusalHeaders(h http.Header, r *http.Request, status int, legacy []int) {
	switch {
	case status == http.StatusMethodNotAllowed && r.ProtoMajor == 2:
		h.Set("Allow", http.MethodConnect)
	case status == http.StatusMethodNotAllowed:
		h.Set("Allow", http.MethodGet)
	case status == http.StatusUpgradeRequired:
		h.Set("Sec-WebSocket-Version", SupportedVersions(legacy))
	case status == http.StatusBadRequest && r.ProtoMajor == 2:
		h.Set("Sec-WebSocket-Version", "13")
	case status == http.StatusServiceUnavailable && r.ProtoMajor == 1:
		// A refused client should not keep its connection: net/http closes
		// it once the answer is out.
		h.Set("Connection", "close")
	}
}

// Switch answers the HTTP/1.1 request r, which CheckUpgrade passed, with
// 101 Switching Protocols (RFC 6455 §4.2.2) naming subprotocol and
// extensions ("" for none) and the headers of extra, and takes over its
// connection, with no deadline. It returns what the client sent after its
// request, which nothing else holds: the buffers net/http hands over with
// a hijacked connection are let go of, since the server keeps them
// reachable until the handler returns, which for a WebSocket handler is
// the connection's whole life (8 KiB per connection). When the connection
// cannot be taken over, Switch answers 500 and returns the Refusal.
//
// A request that ServeUpgrades (or an engine's) read itself is taken over
// without net/http's hijacking: no buffered reader or writer is made for
// it, and the response is written straight to the connection.
func Switch(w http.ResponseWriter, r *http.Request, subprotocol, extensions string, extra http.Header) (nc net.Conn, after []byte, err error) {
	uw := findUpgradeWriter(w)
	var brw *bufio.ReadWriter
	if uw != nil {
		nc, after, err = uw.takeOver()
	} else {
		nc, brw, err = http.NewResponseController(w).Hijack()
	}
	if err != nil {
		rf := &Refusal{Status: http.StatusInternalServerError, Reason: "cannot take over the connection: " + err.Error()}
		http.Error(w, rf.Reason, rf.Status)
		return nil, nil, rf
	}
	nc.SetDeadline(time.Time{})

	buf := wsconn.GetBuffer(256)
	defer wsconn.PutBuffer(buf)
	resp := append((*buf)[:0], "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	resp = AppendAcceptKey(resp, Field(r.Header, "Sec-WebSocket-Key"))
	resp = append(resp, "\r\n"...)
	if subprotocol != "" {
		resp = append(append(append(resp, "Sec-WebSocket-Protocol: "...), subprotocol...), "\r\n"...)
	}
	if extensions != "" {
		resp = append(append(append(resp, "Sec-WebSocket-Extensions: "...), extensions...), "\r\n"...)
	}
	for k, vs := range extra {
		for _, v := range vs {
			resp = append(append(append(append(resp, k...), ": "...), strings.NewReplacer("\r", " ", "\n", " ").Replace(v)...), "\r\n"...)
		}
	}
	resp = append(resp, "\r\n"...)
	*buf = resp
	if brw == nil {
		_, err = nc.Write(resp)
	} else {
		// Write, unlike WriteString, writes a response longer than the
		// writer's buffer straight to the connection.
		_, err = brw.Writer.Write(resp)
		if err == nil {
			err = brw.Writer.Flush()
		}
		if n := brw.Reader.Buffered(); n > 0 {
			after, _ = brw.Reader.Peek(n)
		}
		releaseHijacked(brw)
	}
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("websocket: writing the handshake response: %w", err)
	}
	return nc, after, nil
}

// findUpgradeWriter returns the ResponseWriter of an upgrade that
// ServeUpgrades read, w or one a middleware wrapped (Unwrap, as
// http.ResponseController finds them); nil for any other.
func findUpgradeWriter(w http.ResponseWriter) *upgradeWriter {
	for {
		switch t := w.(type) {
		case *upgradeWriter:
			return t
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
}

// releaseHijacked lets go of the buffers net/http handed over with a
// hijacked connection. Anything that still reads or writes through them
// gets http.ErrHijacked; the bytes a reader held stay where they were, for
// whoever took a slice of them.
func releaseHijacked(brw *bufio.ReadWriter) {
	*brw.Reader = *bufio.NewReaderSize(hijacked{}, 16)
	*brw.Writer = *bufio.NewWriterSize(hijacked{}, 16)
}

// hijacked stands in for a connection that was taken over.
type hijacked struct{}

func (hijacked) Read([]byte) (int, error)  { return 0, http.ErrHijacked }
func (hijacked) Write([]byte) (int, error) { return 0, http.ErrHijacked }

// Logf reports a problem of a server's set-up as net/http reports its
// own: to the ErrorLog of r's [http.Server], or to the log package's
// standard logger when it has none.
func Logf(r *http.Request, format string, args ...any) {
	if s, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}
