package webapi

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxReasonBytes is the longest close reason the close() method accepts: a
// control frame carries at most 125 bytes and the code takes two (RFC 6455 §5.5).
const maxReasonBytes = 123

// validateProtocols checks the constructor's protocols: each one must be a
// token as Sec-WebSocket-Protocol requires (RFC 6455 §4.1: non-empty,
// characters U+0021 to U+007E other than the separators of RFC 2616 §2.2) and
// none may occur twice.
func validateProtocols(protocols []string) error {
	seen := make(map[string]bool, len(protocols))
	for _, p := range protocols {
		if p == "" {
			return syntaxError("a subprotocol name is empty")
		}
		for i := 0; i < len(p); i++ {
			if c := p[i]; c < 0x21 || c > 0x7E || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
				return syntaxError("the subprotocol name " + strconv.Quote(p) + " contains " + strconv.QuoteRune(rune(c)) + ", which a token must not")
			}
		}
		if seen[p] {
			return syntaxError("the subprotocol name " + strconv.Quote(p) + " is given twice")
		}
		seen[p] = true
	}
	return nil
}

// validateClose checks the arguments of Close: a code other than 0 (absent)
// must be 1000 or in 3000–4999, and the reason, as UTF-8, must fit in 123
// bytes. It returns the reason made valid UTF-8, as a USVString would be.
func validateClose(code int, reason string) (string, error) {
	if code != 0 && code != 1000 && (code < 3000 || code > 4999) {
		return "", &DOMException{Name: "InvalidAccessError", Message: "the close code " + strconv.Itoa(code) + " is neither 1000 nor in 3000–4999"}
	}
	reason = usvString(reason)
	if len(reason) > maxReasonBytes {
		return "", syntaxError("the close reason is " + strconv.Itoa(len(reason)) + " bytes of UTF-8; at most 123 fit in a close frame")
	}
	return reason, nil
}

// usvString makes s valid UTF-8 the way Go decodes strings: each byte that
// does not start a valid sequence becomes U+FFFD. It is the Go counterpart of
// the USVString conversion the Web IDL applies to URLs, reasons and text.
func usvString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}
