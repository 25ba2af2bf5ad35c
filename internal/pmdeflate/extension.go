package pmdeflate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/duplexws/websocket/internal/wshttp"
)

// Extension is one element of a Sec-WebSocket-Extensions header: an
// extension token and its parameters, in the order they were written.
type Extension struct {
	Name   string
	Params []Param
}

// Param is one extension parameter. Value holds the unquoted value when
// HasValue is true.
type Param struct {
	Name     string
	Value    string
	HasValue bool
}

// ErrSyntax is wrapped by every error ParseExtensions returns.
var ErrSyntax = errors.New("malformed Sec-WebSocket-Extensions header")

// ParseExtensions parses all values of the Sec-WebSocket-Extensions header
// (RFC 6455 §9.1) in order: comma-separated extensions, possibly spread over
// several header lines, each with ';'-separated parameters whose values may be
// tokens or quoted strings. Empty list elements are skipped (RFC 9110 §5.6.1).
// A quoted value must be a token once unescaped (RFC 6455 §9.1).
func ParseExtensions(values []string) ([]Extension, error) {
	var exts []Extension
	for _, v := range values {
		p := parser{s: v}
		var err error
		exts, err = p.list(exts)
		if err != nil {
			return nil, err
		}
	}
	return exts, nil
}

// parser scans one header value.
type parser struct {
	s   string
	pos int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d of %q", ErrSyntax, fmt.Sprintf(format, args...), p.pos, p.s)
}

func (p *parser) skipOWS() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) list(exts []Extension) ([]Extension, error) {
	for {
		p.skipOWS()
		if p.pos == len(p.s) {
			return exts, nil
		}
		if p.peek() == ',' {
			p.pos++
			continue
		}
		ext, err := p.extension()
		if err != nil {
			return nil, err
		}
		exts = append(exts, ext)
		p.skipOWS()
		switch p.peek() {
		case ',':
			p.pos++
		case 0:
			if p.pos == len(p.s) {
				return exts, nil
			}
			return nil, p.errorf("unexpected character")
		default:
			return nil, p.errorf("expected ',' or ';'")
		}
	}
}

func (p *parser) extension() (Extension, error) {
	name := p.token()
	if name == "" {
		return Extension{}, p.errorf("expected extension token")
	}
	ext := Extension{Name: name}
	for {
		p.skipOWS()
		if p.peek() != ';' {
			return ext, nil
		}
		p.pos++
		p.skipOWS()
		var par Param
		par.Name = p.token()
		if par.Name == "" {
			return Extension{}, p.errorf("expected parameter name")
		}
		p.skipOWS()
		if p.peek() == '=' {
			p.pos++
			p.skipOWS()
			par.HasValue = true
			if p.peek() == '"' {
				v, err := p.quoted()
				if err != nil {
					return Extension{}, err
				}
				if !wshttp.IsToken(v) {
					return Extension{}, p.errorf("quoted value %q is not a token", v)
				}
				par.Value = v
			} else {
				par.Value = p.token()
				if par.Value == "" {
					return Extension{}, p.errorf("expected parameter value")
				}
			}
		}
		ext.Params = append(ext.Params, par)
	}
}

func (p *parser) token() string {
	start := p.pos
	for p.pos < len(p.s) && wshttp.IsTokenChar(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// quoted reads a quoted-string (RFC 9110 §5.6.4) starting at the opening quote
// and returns it unescaped.
func (p *parser) quoted() (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		p.pos++
		switch {
		case c == '"':
			return b.String(), nil
		case c == '\\':
			if p.pos == len(p.s) {
				return "", p.errorf("unterminated quoted-pair")
			}
			c = p.s[p.pos]
			if !isQuotedPairChar(c) {
				return "", p.errorf("invalid quoted-pair")
			}
			p.pos++
			b.WriteByte(c)
		case isQdtext(c):
			b.WriteByte(c)
		default:
			return "", p.errorf("invalid character in quoted-string")
		}
	}
	return "", p.errorf("unterminated quoted-string")
}

func isQdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (0x23 <= c && c <= 0x5b) || (0x5d <= c && c <= 0x7e) || c >= 0x80
}

func isQuotedPairChar(c byte) bool {
	return c == '\t' || c == ' ' || (0x21 <= c && c <= 0x7e) || c >= 0x80
}
