package autobahn

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// acceptGUID is the fixed string of RFC 6455 §1.3 hashed with the key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// errHandshake is wrapped by every opening handshake failure.
var errHandshake = errors.New("autobahn: opening handshake failed")

// acceptKey is the Sec-WebSocket-Accept value for key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// headerHasToken reports whether the comma-separated header h holds token,
// compared without regard to case.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// handshake is what the opening handshake settled, on either side.
type handshake struct {
	conn   net.Conn
	br     *bufio.Reader
	offer  string // Sec-WebSocket-Extensions of the request
	answer string // Sec-WebSocket-Extensions of the response
}

// dialHandshake opens a TCP connection to the ws:// URL rawURL and runs the
// client's opening handshake, offering the extensions in offer (none if
// empty). The context bounds the dial and the handshake.
func dialHandshake(ctx context.Context, rawURL, offer string) (*handshake, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "ws", "http":
	default:
		return nil, fmt.Errorf("%w: the suite speaks plain ws:// only, not %q", errHandshake, u.Scheme)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Host:       u.Host,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header: http.Header{
			"Upgrade":               {"websocket"},
			"Connection":            {"Upgrade"},
			"Sec-WebSocket-Key":     {key},
			"Sec-WebSocket-Version": {"13"},
		},
	}
	if offer != "" {
		req.Header.Set("Sec-WebSocket-Extensions", offer)
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(conn, 64<<10)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols:
		err = fmt.Errorf("%w: status %s", errHandshake, resp.Status)
	case !headerHasToken(resp.Header, "Upgrade", "websocket"):
		err = fmt.Errorf("%w: no Upgrade: websocket in the answer", errHandshake)
	case !headerHasToken(resp.Header, "Connection", "upgrade"):
		err = fmt.Errorf("%w: no Connection: Upgrade in the answer", errHandshake)
	case resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key):
		err = fmt.Errorf("%w: wrong Sec-WebSocket-Accept %q", errHandshake, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(noDeadline)
	return &handshake{
		conn:   conn,
		br:     br,
		offer:  offer,
		answer: strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", "),
	}, nil
}

// acceptHandshake checks r as a WebSocket opening request, answers it with
// 101 and takes the connection over from net/http. answer chooses the
// Sec-WebSocket-Extensions of the response from the request's; nil accepts
// none. On a bad request it writes an HTTP error and returns errHandshake.
func acceptHandshake(w http.ResponseWriter, r *http.Request, answer func(offer string) string) (*handshake, error) {
	if r.ProtoMajor == 2 {
		return acceptStream(w, r, answer)
	}
	var problem string
	switch {
	case r.Method != http.MethodGet:
		problem = "the method must be GET"
	case !headerHasToken(r.Header, "Upgrade", "websocket"):
		problem = "Upgrade: websocket is missing"
	case !headerHasToken(r.Header, "Connection", "upgrade"):
		problem = "Connection: Upgrade is missing"
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, "Sec-WebSocket-Version must be 13", http.StatusUpgradeRequired)
		return nil, fmt.Errorf("%w: version %q", errHandshake, r.Header.Get("Sec-WebSocket-Version"))
	case r.Header.Get("Sec-WebSocket-Key") == "":
		problem = "Sec-WebSocket-Key is missing"
	}
	if problem != "" {
		http.Error(w, problem, http.StatusBadRequest)
		return nil, fmt.Errorf("%w: %s", errHandshake, problem)
	}
	offer := strings.Join(r.Header.Values("Sec-WebSocket-Extensions"), ", ")
	var ext string
	if answer != nil && offer != "" {
		ext = answer(offer)
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "the connection cannot be taken over", http.StatusInternalServerError)
		return nil, fmt.Errorf("%w: %v", errHandshake, err)
	}
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	b.WriteString("Sec-WebSocket-Accept: " + acceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n")
	if ext != "" {
		b.WriteString("Sec-WebSocket-Extensions: " + ext + "\r\n")
	}
	b.WriteString("\r\n")
	conn.SetDeadline(noDeadline)
	if _, err := conn.Write([]byte(b.String())); err != nil {
		conn.Close()
		return nil, err
	}
	return &handshake{conn: conn, br: rw.Reader, offer: offer, answer: ext}, nil
}
