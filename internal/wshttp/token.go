package wshttp

import (
	"net/http"
	"strings"
)

// HasToken reports whether the named header holds token, compared without
// regard to case, in any of its comma-separated lists.
func HasToken(h http.Header, name, token string) bool {
	for _, v := range Values(h, name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// IsTokenChar reports whether c may appear in an HTTP token (RFC 9110 §5.6.2).
func IsTokenChar(c byte) bool {
	return c > ' ' && c < 0x7F && strings.IndexByte(`()<>@,;:\"/[]?={}`, c) < 0
}

// IsToken reports whether s is an HTTP token (RFC 9110 §5.6.2), as
// subprotocol and extension names must be.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !IsTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// Tokens returns the comma-separated tokens of every value of the named
// header, trimmed of optional whitespace, in order.
func Tokens(h http.Header, name string) []string {
	var tokens []string
	for _, v := range Values(h, name) {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tokens = append(tokens, t)
			}
		}
	}
	return tokens
}

// Repeated returns the first of names that appears more than once in h, or "".
func Repeated(h http.Header, names ...string) string {
	for _, name := range names {
		if len(Values(h, name)) > 1 {
			return name
		}
	}
	return ""
}

// Values is h.Values(name), for name a token, without the string that
// net/http's lookup by a name not in canonical form costs each time, for
// the handshake's own fields (canonicalKey): Sec-WebSocket-Key as RFC 6455
// spells it is Sec-Websocket-Key to net/http.
func Values(h http.Header, name string) []string { return h[canonicalKey(name)] }

// Field is h.Get(name), as Values is h.Values(name).
func Field(h http.Header, name string) string {
	if vs := Values(h, name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}
