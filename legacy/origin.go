package legacy

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// checkOrigin applies the same-origin rule of the core's Accept: a request
// without an Origin header (not from a browser) passes, as does one whose
// Origin host is the request's own Host or matches one of patterns
// (path.Match, case-insensitive; a pattern with "://" is matched against the
// origin's scheme://host instead of its host alone).
func checkOrigin(r *http.Request, patterns []string) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("the Origin header %q is not a scheme://host origin", origin)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	host := strings.ToLower(u.Host)
	full := strings.ToLower(u.Scheme) + "://" + host
	for _, p := range patterns {
		target := host
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
	return fmt.Errorf("the origin %q is not allowed: its host %q is not the request's host %q and matches none of AcceptOptions.OriginPatterns; list it there, or set InsecureSkipOriginCheck to accept any origin", origin, u.Host, r.Host)
}
