package websocket

import (
	"fmt"
	"net/url"
	"path"
	"strings"
)

// checkOrigin applies the server's origin policy: a request without an Origin
// comes from a non-browser client and passes; a browser's Origin must name the
// request's own host or match one of the patterns. This stops a page on
// another site from opening a connection with the user's cookies (RFC 6455 §10.2).
func checkOrigin(origin, host string, patterns []string) error {
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("malformed Origin %q", origin)
	}
	if strings.EqualFold(u.Host, host) {
		return nil
	}
	for _, p := range patterns {
		target := strings.ToLower(u.Host)
		if strings.Contains(p, "://") {
			target = strings.ToLower(u.Scheme + "://" + u.Host)
		}
		ok, err := path.Match(strings.ToLower(p), target)
		if err != nil {
			return fmt.Errorf("bad origin pattern %q: %v", p, err)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("origin %q is not allowed for host %q; list it in AcceptOptions.OriginPatterns", origin, host)
}
