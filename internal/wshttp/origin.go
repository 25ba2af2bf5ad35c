package wshttp

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// CheckOrigin applies a server's origin policy. A request without an Origin
// comes from a client that is not a browser and passes; a browser's Origin
// must name the request's own host, or match one of patterns. A pattern is
// matched with path.Match, without regard to case, against the origin's host,
// or against its scheme://host when the pattern holds "://". The policy stops
// a page on another site from opening a connection that carries the user's
// cookies (RFC 6455 §10.2).
func CheckOrigin(origin, host string, patterns []string) error {
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("the Origin header %q is not a scheme://host origin", origin)
	}
	if strings.EqualFold(u.Host, host) {
		return nil
	}
	h := strings.ToLower(u.Host)
	full := strings.ToLower(u.Scheme) + "://" + h
	for _, p := range patterns {
		target := h
		if strings.Contains(p, "://") {
			target = full
		}
		ok, err := path.Match(strings.ToLower(p), target)
		if err != nil {
			return fmt.Errorf("the origin pattern %q is malformed: %w", p, err)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("the origin %q is not allowed: its host is not the request's host %q and matches none of AcceptOptions.OriginPatterns; list it there, or set InsecureSkipOriginCheck to accept any origin", origin, host)
}

// AllowOrigin applies CheckOrigin to r, whose origin is origin, and, when
// it refuses, asks check (when set) whether to accept r all the same. It
// returns the 403 refusal, naming only the origin when check refused.
func AllowOrigin(r *http.Request, origin string, patterns []string, check func(r *http.Request) bool) *Refusal {
	err := CheckOrigin(origin, r.Host, patterns)
	switch {
	case err == nil:
		return nil
	case check == nil:
		return &Refusal{Status: http.StatusForbidden, Reason: err.Error()}
	case check(r):
		return nil
	}
	return refusef(http.StatusForbidden, "the origin %q is not allowed", origin)
}
