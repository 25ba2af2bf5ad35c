package wshttp

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
)

// dialProxy opens a tunnel to target through an HTTP proxy with CONNECT.
func dialProxy(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error), proxyURL *url.URL, target string) (net.Conn, error) {
	if proxyURL.Scheme != "http" && proxyURL.Scheme != "" {
		return nil, fmt.Errorf("proxy scheme %q is not supported; use an http:// proxy", proxyURL.Scheme)
	}
	addr := proxyURL.Host
	if proxyURL.Port() == "" {
		addr = net.JoinHostPort(proxyURL.Hostname(), "80")
	}
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("proxy %s: %w", addr, err)
	}
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: target},
		Host:   target,
		Header: make(http.Header),
	}
	if u := proxyURL.User; u != nil {
		pass, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pass)))
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	if err := req.Write(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("proxy %s: %w", addr, err)
	}
	// Read the answer byte by byte so nothing of the tunnel is buffered away.
	br := bufio.NewReaderSize(oneByteReader{nc}, 16)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("proxy %s: reading the CONNECT answer: %w", addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		nc.Close()
		return nil, fmt.Errorf("proxy %s refused CONNECT %s: %s", addr, target, resp.Status)
	}
	return nc, nil
}

// oneByteReader reads one byte at a time.
type oneByteReader struct{ r net.Conn }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
