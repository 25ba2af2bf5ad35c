package wshttp

import (
	"net/http"
	"testing"
)

func TestHasToken(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Add("Connection", "keep-alive, Upgrade")
	h.Add("Connection", "close")
	for _, tt := range []struct {
		token string
		want  bool
	}{
		{"upgrade", true}, {"UPGRADE", true}, {"close", true}, {"keep-alive", true},
		{"up", false}, {"keep-alive, upgrade", false}, {"", false},
	} {
		if got := HasToken(h, "Connection", tt.token); got != tt.want {
			t.Errorf("HasToken(%q) = %v, want %v", tt.token, got, tt.want)
		}
	}
}

func TestIsToken(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"chat", "v2.chat", "a!#$%&'*+-.^_`|~z", "X"} {
		if !IsToken(s) {
			t.Errorf("IsToken(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", "a b", "a,b", "a;b", `"a"`, "a/b", "ä", "a\x7f", "a\tb", "{x}"} {
		if IsToken(s) {
			t.Errorf("IsToken(%q) = true, want false", s)
		}
	}
}

func TestCheckOrigin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		origin, host string
		patterns     []string
		ok           bool
	}{
		{"", "example.com", nil, true},
		{"https://example.com", "example.com", nil, true},
		{"https://EXAMPLE.com", "example.com", nil, true},
		{"https://evil.example", "example.com", nil, false},
		{"https://app.trusted.example", "example.com", []string{"*.trusted.example"}, true},
		{"http://app.trusted.example", "example.com", []string{"https://*.trusted.example"}, false},
		{"https://app.trusted.example", "example.com", []string{"https://*.trusted.example"}, true},
		{"null", "example.com", nil, false},
		{"https://x.example", "example.com", []string{"[x"}, false},
	} {
		err := CheckOrigin(tt.origin, tt.host, tt.patterns)
		if (err == nil) != tt.ok {
			t.Errorf("CheckOrigin(%q, %q, %q) = %v, want ok=%v", tt.origin, tt.host, tt.patterns, err, tt.ok)
		}
	}
}
