package wshttp

import (
	"bytes"
	"net/http"
	"net/textproto"
	"net/url"
)

// ParseUpgradeRequest parses head, an HTTP/1.1 request's line and header
// fields up to and including the CRLF that ends the last field (the blank
// line excluded), when it is a plain WebSocket upgrade: GET of an
// origin-form target, HTTP/1.1, one Host, an Upgrade field naming
// websocket, no body, every field well formed. It returns nil for anything
// else, however valid: what it does not take is left to net/http, which
// answers every request correctly. Whatever it returns is what
// http.ReadRequest would make of head (FuzzParseUpgradeRequest holds it
// to that), with Body set to http.NoBody and no context.
func ParseUpgradeRequest(head []byte) *http.Request {
	line, rest, ok := bytes.Cut(head, crlf)
	if !ok || !bytes.HasPrefix(line, []byte("GET /")) || !bytes.HasSuffix(line, []byte(" HTTP/1.1")) {
		return nil
	}
	target := line[len("GET ") : len(line)-len(" HTTP/1.1")]
	for _, b := range target {
		if b <= ' ' || b >= 0x7f || b == '#' {
			return nil
		}
	}
	u, err := url.ParseRequestURI(string(target))
	if err != nil {
		return nil
	}

	h := make(http.Header, 8)
	var host []string
	for len(rest) > 0 {
		var field []byte
		field, rest, ok = bytes.Cut(rest, crlf)
		if !ok {
			return nil
		}
		name, value, ok := bytes.Cut(field, []byte(":"))
		if !ok || !validFieldName(name) || !validFieldValue(value) {
			return nil
		}
		key := textproto.CanonicalMIMEHeaderKey(string(name))
		v := string(bytes.Trim(value, " \t"))
		if key == "Host" {
			host = append(host, v)
			continue
		}
		h[key] = append(h[key], v)
	}
	if len(host) != 1 || !validHost(host[0]) ||
		!HasToken(h, "Upgrade", "websocket") ||
		h["Transfer-Encoding"] != nil || h["Content-Length"] != nil {
		return nil
	}
	return &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Body:       http.NoBody,
		Host:       host[0],
		RequestURI: string(target),
		Close:      HasToken(h, "Connection", "close"),
	}
}

// crlf ends a line of an HTTP/1.1 request.
var crlf = []byte("\r\n")

// validFieldName reports whether name is a token (RFC 9110 §5.1), nothing
// around it.
func validFieldName(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, b := range name {
		if !IsTokenChar(b) {
			return false
		}
	}
	return true
}

// validFieldValue reports whether value holds only visible characters,
// spaces and tabs: no control character, no obsolete text above 0x7f.
func validFieldValue(value []byte) bool {
	for _, b := range value {
		if (b < ' ' && b != '\t') || b >= 0x7f {
			return false
		}
	}
	return true
}

// validHost reports whether host is a name, an IPv4 address or a bracketed
// IPv6 address, with an optional port: a conservative subset of what
// RFC 3986's authority allows.
func validHost(host string) bool {
	if host == "" {
		return false
	}
	for i := 0; i < len(host); i++ {
		b := host[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case b == '.' || b == '-' || b == '_' || b == ':' || b == '[' || b == ']':
		default:
			return false
		}
	}
	return true
}
