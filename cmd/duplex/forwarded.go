package main

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// prefixFlag collects --trusted-proxy values: CIDR prefixes, or single
// addresses (a /32 or /128), repeatable or comma-separated.
type prefixFlag []netip.Prefix

func (f *prefixFlag) String() string {
	s := make([]string, len(*f))
	for i, p := range *f {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (f *prefixFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return fmt.Errorf("%q is neither a CIDR prefix (10.0.0.0/8) nor an address", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		*f = append(*f, p.Masked())
	}
	return nil
}

// trusts tells whether a is the address of a trusted proxy.
func (f prefixFlag) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range f {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr returns the address of the client that r comes from. When
// the peer that sent r is a trusted proxy, the proxies' header (header:
// X-Forwarded-For, or Forwarded as RFC 7239 writes it) says who it came
// from: the hops it lists are walked from the last (the one the nearest
// proxy added) back, past every trusted proxy, to the first address that
// is not one. A hop that is not an address (unknown, an obfuscated name,
// garbage) ends the walk at the proxy that wrote it. Otherwise, and
// without trusted proxies, it is r.RemoteAddr.
func clientAddr(r *http.Request, trusted prefixFlag, header string) string {
	if len(trusted) == 0 {
		return r.RemoteAddr
	}
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !trusted.trusts(peer.Addr()) {
		return r.RemoteAddr
	}
	var hops []string
	for _, v := range r.Header.Values(header) {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	client := r.RemoteAddr
	for i := len(hops) - 1; i >= 0; i-- {
		hop := hops[i]
		if strings.EqualFold(header, "Forwarded") {
			hop = forwardedFor(hop)
		}
		s, a, ok := hopAddr(hop)
		if !ok {
			break
		}
		client = s
		if !trusted.trusts(a) {
			break
		}
	}
	return client
}

// forwardedFor returns the value of the for= parameter of one element of
// a Forwarded header (RFC 7239 §4), unquoted: for=192.0.2.60;proto=http
// gives 192.0.2.60, for="[2001:db8::17]:4711" gives [2001:db8::17]:4711.
func forwardedFor(elem string) string {
	for _, pair := range strings.Split(elem, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "for") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		return v
	}
	return ""
}

// hopAddr parses one hop of a proxies' header: an IP address, or an IP
// address and port (IPv6 in brackets). It returns the hop written as Go
// writes a RemoteAddr, and its address.
func hopAddr(hop string) (string, netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(hop); err == nil && ap.Addr().Zone() == "" {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		return ap.String(), ap.Addr(), true
	}
	if strings.HasPrefix(hop, "[") && strings.HasSuffix(hop, "]") {
		hop = hop[1 : len(hop)-1]
	}
	a, err := netip.ParseAddr(hop)
	if err != nil || a.Zone() != "" {
		return "", netip.Addr{}, false
	}
	a = a.Unmap()
	return a.String(), a, true
}

// clientAddrHandler sets the RemoteAddr of each request that h serves to
// the client's address, from the header of the trusted proxies (see
// clientAddr), so that h's logs name the client, not the proxy. Without
// trusted proxies it returns h.
func clientAddrHandler(h http.Handler, trusted prefixFlag, header string) http.Handler {
	if len(trusted) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := clientAddr(r, trusted, header); a != r.RemoteAddr {
			r2 := *r
			r2.RemoteAddr = a
			r = &r2
		}
		h.ServeHTTP(w, r)
	})
}

// checkClientIPHeader checks the --client-ip-header value.
func checkClientIPHeader(h string) error {
	if !strings.EqualFold(h, "X-Forwarded-For") && !strings.EqualFold(h, "Forwarded") {
		return usagef("bad --client-ip-header %q: want X-Forwarded-For or Forwarded", h)
	}
	return nil
}
