package wshttp

import (
	"bytes"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// ParseUpgradeRequest parses head, an HTTP/1.1 request's line and header
// fields up to and including the CRLF that ends the last field (the blank
// line excluded), into r, when it is a plain WebSocket upgrade: GET of an
// origin-form target, HTTP/1.1, one Host, an Upgrade field naming
// websocket, no body, every field well formed. It reports false for
// anything else, however valid: what it does not take is left to
// net/http, which answers every request correctly. What it fills in is
// what http.ReadRequest would make of head (FuzzParseUpgradeRequest holds
// it to that), with Body set to http.NoBody and no context: r may live on
// its caller's stack until the copy WithContext makes.
func ParseUpgradeRequest(head []byte, r *http.Request) bool {
	line, rest, ok := bytes.Cut(head, crlf)
	if !ok || !bytes.HasPrefix(line, []byte("GET /")) || !bytes.HasSuffix(line, []byte(" HTTP/1.1")) {
		return false
	}
	target := line[len("GET ") : len(line)-len(" HTTP/1.1")]
	for _, b := range target {
		if b <= ' ' || b >= 0x7f || b == '#' {
			return false
		}
	}
	uri := string(target)
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return false
	}

	// One string holds every field's name and value, and one array every
	// field's first value, as net/textproto lays them out: a request
	// costs a few allocations, not a few per field.
	fields := string(rest)
	firsts := make([]string, strings.Count(fields, "\r\n"))
	h := make(http.Header, len(firsts))
	var host []string
	for len(fields) > 0 {
		field, more, ok := strings.Cut(fields, "\r\n")
		if !ok {
			return false
		}
		fields = more
		name, value, ok := strings.Cut(field, ":")
		if !ok || !validFieldName(name) || !validFieldValue(value) {
			return false
		}
		key := canonicalKey(name)
		v := strings.Trim(value, " \t")
		switch vs := h[key]; {
		case key == "Host":
			host = append(host, v)
		case vs == nil:
			firsts[0] = v
			h[key], firsts = firsts[:1:1], firsts[1:]
		default:
			h[key] = append(vs, v)
		}
	}
	if len(host) != 1 || !validHost(host[0]) ||
		!HasToken(h, "Upgrade", "websocket") ||
		h["Transfer-Encoding"] != nil || h["Content-Length"] != nil {
		return false
	}
	*r = http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Body:       http.NoBody,
		Host:       host[0],
		RequestURI: uri,
		Close:      HasToken(h, "Connection", "close"),
	}
	return true
}

// canonicalKey is textproto.CanonicalMIMEHeaderKey(name) for name, a
// token, with the WebSocket handshake's own fields given constant names:
// net/textproto does not intern them, and a request spelling them as
// RFC 6455 does (Sec-WebSocket-Key) would cost a string each.
func canonicalKey(name string) string {
	for _, k := range [...]string{
		"Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions",
		"Sec-Websocket-Accept", "Sec-Websocket-Origin", "Upgrade", "Origin",
	} {
		if len(name) == len(k) && strings.EqualFold(name, k) {
			return k
		}
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// crlf ends a line of an HTTP/1.1 request.
var crlf = []byte("\r\n")

// validFieldName reports whether name is a token (RFC 9110 §5.1), nothing
// around it.
func validFieldName(name string) bool {
	if len(name) == 0 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !IsTokenChar(name[i]) {
			return false
		}
	}
	return true
}

// validFieldValue reports whether value holds only visible characters,
// spaces and tabs: no control character, no obsolete text above 0x7f.
func validFieldValue(value string) bool {
	for i := 0; i < len(value); i++ {
		if b := value[i]; (b < ' ' && b != '\t') || b >= 0x7f {
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
