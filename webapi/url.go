package webapi

import (
	"net/netip"
	"strconv"
	"strings"
)

// socketURL is a WebSocket URL after the constructor's parsing steps.
type socketURL struct {
	href     string // the serialization returned by URL()
	origin   string // the serialization of the URL's origin, for MessageEvent.Origin
	hostPort string // host and port (explicit, default filled in): the §4.1 key
}

// parseURL runs the WebSocket constructor's URL steps on an absolute URL: parse
// it, turn http into ws and https into wss, refuse every other scheme and any
// fragment. It follows the URL Standard's parser for the parts a WebSocket URL
// can have: surrounding C0 controls and spaces and inner tabs and newlines are
// removed, backslashes count as slashes before the query, any number of slashes
// may follow the scheme, the host is lowercased, a default port is dropped, dot
// segments are resolved and unsafe characters in the path and query are
// percent-encoded. Two parts of that parser are left out: internationalised
// host names must already be in their xn-- form, and IPv4 addresses must be
// written as four decimal numbers.
func parseURL(raw string) (*socketURL, error) {
	s := usvString(raw) // a USVString
	s = strings.TrimFunc(s, func(r rune) bool { return r <= 0x20 })
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)

	colon := schemeEnd(s)
	if colon < 0 {
		return nil, syntaxError("the URL " + strconv.Quote(raw) + " is not absolute")
	}
	scheme := strings.ToLower(s[:colon])
	switch scheme {
	case "http":
		scheme = "ws"
	case "https":
		scheme = "wss"
	case "ws", "wss":
	default:
		return nil, syntaxError("the URL's scheme is " + strconv.Quote(scheme) + "; it must be ws, wss, http or https")
	}
	rest := s[colon+1:]
	if strings.IndexByte(rest, '#') >= 0 {
		return nil, syntaxError("the URL " + strconv.Quote(raw) + " has a fragment; WebSocket URLs must not")
	}

	query, hasQuery := "", false
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, query, hasQuery = rest[:i], rest[i+1:], true
	}
	rest = strings.ReplaceAll(rest, `\`, "/")
	rest = strings.TrimLeft(rest, "/")
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}

	userinfo := ""
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, authority = authority[:i], authority[i+1:]
	}
	host, port, err := parseHostPort(authority, scheme)
	if err != nil {
		return nil, err
	}

	defaultPort := "80"
	if scheme == "wss" {
		defaultPort = "443"
	}
	hostPort := host + ":" + defaultPort
	origin := scheme + "://" + host
	if port != "" && port != defaultPort {
		origin += ":" + port
		hostPort = host + ":" + port
	}

	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	if userinfo != "" {
		user, pass, hasPass := strings.Cut(userinfo, ":")
		b.WriteString(percentEncode(user, isUserinfoSafe))
		if hasPass {
			b.WriteByte(':')
			b.WriteString(percentEncode(pass, isUserinfoSafe))
		}
		b.WriteByte('@')
	}
	b.WriteString(origin[len(scheme)+3:])
	b.WriteString(normalizePath(path))
	if hasQuery {
		b.WriteByte('?')
		b.WriteString(percentEncode(query, isQuerySafe))
	}
	return &socketURL{href: b.String(), origin: origin, hostPort: hostPort}, nil
}

// schemeEnd returns the index of the colon that ends a URL scheme
// (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), or -1 when s has none.
func schemeEnd(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}

// parseHostPort splits and checks the host and port of an authority. The
// port is returned as written without leading zeros, or "" when absent.
func parseHostPort(authority, scheme string) (host, port string, err error) {
	host = authority
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return "", "", syntaxError("the URL's IPv6 host " + strconv.Quote(authority) + " lacks its closing bracket")
		}
		addr, perr := netip.ParseAddr(authority[1:end])
		if perr != nil || !addr.Is6() || addr.Zone() != "" {
			return "", "", syntaxError("the URL's host " + strconv.Quote(authority[:end+1]) + " is not an IPv6 address")
		}
		host = "[" + addr.String() + "]"
		authority = authority[end+1:]
		if authority != "" && authority[0] != ':' {
			return "", "", syntaxError("unexpected " + strconv.Quote(authority) + " after the URL's IPv6 host")
		}
	} else if i := strings.LastIndexByte(authority, ':'); i >= 0 {
		host, authority = authority[:i], authority[i:]
	} else {
		authority = ""
	}
	if p, ok := strings.CutPrefix(authority, ":"); ok && p != "" {
		n, perr := strconv.ParseUint(p, 10, 16)
		if perr != nil || strings.TrimLeft(p, "0123456789") != "" {
			return "", "", syntaxError("the URL's port " + strconv.Quote(p) + " is not a number from 0 to 65535")
		}
		port = strconv.FormatUint(n, 10)
	}
	if !strings.HasPrefix(host, "[") {
		if host, err = checkDomain(host); err != nil {
			return "", "", err
		}
	}
	return host, port, nil
}

// checkDomain percent-decodes and lowercases a host name and refuses what the
// URL Standard refuses in one (empty hosts, forbidden code points), plus
// non-ASCII names, which must be given in their xn-- form here.
func checkDomain(host string) (string, error) {
	if host == "" {
		return "", syntaxError("the URL has no host")
	}
	decoded, ok := percentDecode(host)
	if !ok {
		return "", syntaxError("the URL's host " + strconv.Quote(host) + " has a malformed percent-escape")
	}
	for _, r := range decoded {
		if r > 0x7E {
			return "", syntaxError("the URL's host " + strconv.Quote(host) + " is not ASCII; write it in its xn-- (punycode) form")
		}
		if r <= 0x20 || r == 0x7F || strings.ContainsRune("#%/:<>?@[\\]^|", r) {
			return "", syntaxError("the URL's host " + strconv.Quote(host) + " contains the forbidden character " + strconv.QuoteRune(r))
		}
	}
	return strings.ToLower(decoded), nil
}

func percentDecode(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), true
}

// normalizePath percent-encodes a path and resolves its "." and ".."
// segments (also when written %2e), as the URL Standard's path state does.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, seg := range segs {
		last := i == len(segs)-1
		switch strings.ToLower(seg) {
		case ".", "%2e":
			if last {
				out = append(out, "")
			}
		case "..", ".%2e", "%2e.", "%2e%2e":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, percentEncode(seg, isPathSafe))
		}
	}
	return "/" + strings.Join(out, "/")
}

func percentEncode(s string, safe func(byte) bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if safe(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// The percent-encode sets of the URL Standard: C0 controls and bytes above
// 0x7E always, plus a few ASCII characters that differ per component.
func isQuerySafe(c byte) bool { return c > 0x20 && c < 0x7F && !strings.ContainsRune(`"#<>'`, rune(c)) }
func isPathSafe(c byte) bool {
	return c > 0x20 && c < 0x7F && !strings.ContainsRune("\"#<>?`{}", rune(c))
}
func isUserinfoSafe(c byte) bool {
	return c > 0x20 && c < 0x7F && !strings.ContainsRune("\"#<>?`{}/:;=@[\\]^|", rune(c))
}
