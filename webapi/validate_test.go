package webapi

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in, href, origin, hostPort string
	}{
		{"ws://example.com", "ws://example.com/", "ws://example.com", "example.com:80"},
		{"wss://example.com/chat", "wss://example.com/chat", "wss://example.com", "example.com:443"},
		{"http://example.com/a", "ws://example.com/a", "ws://example.com", "example.com:80"},
		{"https://example.com/a", "wss://example.com/a", "wss://example.com", "example.com:443"},
		{"HTTPS://EXAMPLE.com:443/Path", "wss://example.com/Path", "wss://example.com", "example.com:443"},
		{"WS://Example.COM:80/", "ws://example.com/", "ws://example.com", "example.com:80"},
		{"ws://example.com:8080/x?y=1", "ws://example.com:8080/x?y=1", "ws://example.com:8080", "example.com:8080"},
		{"wss://example.com:80/", "wss://example.com:80/", "wss://example.com:80", "example.com:80"},
		{"ws://example.com:0081/", "ws://example.com:81/", "ws://example.com:81", "example.com:81"},
		{"ws://example.com:/", "ws://example.com/", "ws://example.com", "example.com:80"},
		{"ws:example.com/a", "ws://example.com/a", "ws://example.com", "example.com:80"},
		{"ws:///example.com/a", "ws://example.com/a", "ws://example.com", "example.com:80"},
		{`ws:\\example.com\a\b`, "ws://example.com/a/b", "ws://example.com", "example.com:80"},
		{"  ws://example.com/ \n", "ws://example.com/", "ws://example.com", "example.com:80"},
		{"ws://exa\tmple.com/", "ws://example.com/", "ws://example.com", "example.com:80"},
		{"ws://example.com/a/./b/../c", "ws://example.com/a/c", "ws://example.com", "example.com:80"},
		{"ws://example.com/a/%2E%2e/c", "ws://example.com/c", "ws://example.com", "example.com:80"},
		{"ws://example.com/a/..", "ws://example.com/", "ws://example.com", "example.com:80"},
		{"ws://example.com/a b?c d", "ws://example.com/a%20b?c%20d", "ws://example.com", "example.com:80"},
		{"ws://example.com/é?é", "ws://example.com/%C3%A9?%C3%A9", "ws://example.com", "example.com:80"},
		{"ws://example.com?q", "ws://example.com/?q", "ws://example.com", "example.com:80"},
		{"ws://example.com/?", "ws://example.com/?", "ws://example.com", "example.com:80"},
		{"ws://[::1]:9000/", "ws://[::1]:9000/", "ws://[::1]:9000", "[::1]:9000"},
		{"ws://[0:0::1]/", "ws://[::1]/", "ws://[::1]", "[::1]:80"},
		{"ws://127.0.0.1:1234/", "ws://127.0.0.1:1234/", "ws://127.0.0.1:1234", "127.0.0.1:1234"},
		{"ws://user:pa ss@example.com/", "ws://user:pa%20ss@example.com/", "ws://example.com", "example.com:80"},
		{"ws://%65xample.com/", "ws://example.com/", "ws://example.com", "example.com:80"},
	}
	for _, tt := range tests {
		u, err := parseURL(tt.in)
		if err != nil {
			t.Errorf("parseURL(%q): %v", tt.in, err)
			continue
		}
		if u.href != tt.href || u.origin != tt.origin || u.hostPort != tt.hostPort {
			t.Errorf("parseURL(%q) = %q, %q, %q; want %q, %q, %q", tt.in, u.href, u.origin, u.hostPort, tt.href, tt.origin, tt.hostPort)
		}
	}
}

func TestParseURLSyntaxError(t *testing.T) {
	for _, in := range []string{
		"",
		"example.com",
		"/chat",
		"//example.com/chat",
		"ftp://example.com/",
		"file:///tmp/x",
		"mailto:a@example.com",
		"javascript:alert(1)",
		"wss://example.com/#",
		"ws://example.com/#frag",
		"http://example.com/chat#x",
		"ws://",
		"ws:///",
		"ws://:80/",
		"ws://example.com:65536/",
		"ws://example.com:8o/",
		"ws://example.com:-1/",
		"ws://exa mple.com/",
		"ws://exa<mple.com/",
		"ws://exämple.com/",
		"ws://[::1/",
		"ws://[example]/",
		"ws://[::1]x/",
		"ws://%zz/",
		"1ws://example.com/",
	} {
		_, err := parseURL(in)
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("parseURL(%q) error = %v; want a SyntaxError", in, err)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"ws://example.com/", "https://a:b@[::1]:8080/x/../y?z#f", `ws:\\h\p`, "ws://h:99999", "ws://%41/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseURL(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("parseURL(%q) error %v is not a SyntaxError", s, err)
			}
			return
		}
		// A parsed URL parses again to itself: the serialization is stable.
		again, err := parseURL(u.href)
		if err != nil || again.href != u.href {
			t.Fatalf("parseURL(%q) = %q, which parses to %v, %v", s, u.href, again, err)
		}
		if !strings.HasPrefix(u.href, "ws://") && !strings.HasPrefix(u.href, "wss://") {
			t.Fatalf("parseURL(%q) = %q: not a ws or wss URL", s, u.href)
		}
	})
}

func TestValidateProtocols(t *testing.T) {
	tests := []struct {
		protocols []string
		ok        bool
	}{
		{nil, true},
		{[]string{"chat"}, true},
		{[]string{"chat", "superchat", "v1.json-rpc", "a!#$%&'*+-.^_`|~z"}, true},
		{[]string{"chat", "chat"}, false},
		{[]string{"a", "b", "a"}, false},
		{[]string{"Chat", "chat"}, true},
		{[]string{""}, false},
		{[]string{"two words"}, false},
		{[]string{"tab\there"}, false},
		{[]string{"semi;colon"}, false},
		{[]string{"comma,list"}, false},
		{[]string{"a/b"}, false},
		{[]string{"q=1"}, false},
		{[]string{`quo"te`}, false},
		{[]string{"{x}"}, false},
		{[]string{"del\x7f"}, false},
		{[]string{"é"}, false},
		{[]string{"nul\x00"}, false},
	}
	for _, tt := range tests {
		err := validateProtocols(tt.protocols)
		if tt.ok && err != nil {
			t.Errorf("validateProtocols(%q) = %v; want nil", tt.protocols, err)
		}
		if !tt.ok && !errors.Is(err, ErrSyntax) {
			t.Errorf("validateProtocols(%q) = %v; want a SyntaxError", tt.protocols, err)
		}
	}
}

func TestValidateClose(t *testing.T) {
	tests := []struct {
		code   int
		reason string
		want   error
	}{
		{0, "", nil},
		{0, "bye", nil},
		{1000, "", nil},
		{1000, "done", nil},
		{3000, "", nil},
		{4999, "", nil},
		{3999, "", nil},
		{1001, "", ErrInvalidAccess},
		{1005, "", ErrInvalidAccess},
		{1006, "", ErrInvalidAccess},
		{1015, "", ErrInvalidAccess},
		{999, "", ErrInvalidAccess},
		{2999, "", ErrInvalidAccess},
		{5000, "", ErrInvalidAccess},
		{-1, "", ErrInvalidAccess},
		{65536 + 1000, "", ErrInvalidAccess},
		{1000, strings.Repeat("a", 123), nil},
		{1000, strings.Repeat("a", 124), ErrSyntax},
		{1000, strings.Repeat("é", 61) + "a", nil},    // 123 bytes
		{1000, strings.Repeat("é", 62), ErrSyntax},    // 124 bytes in 62 characters
		{1000, strings.Repeat("\xff", 41), nil},       // 41 × U+FFFD = 123 bytes
		{1000, strings.Repeat("\xff", 42), ErrSyntax}, // 42 bytes given, 126 once made UTF-8
		{4000, strings.Repeat("a", 200), ErrSyntax},
		{1001, strings.Repeat("a", 200), ErrInvalidAccess}, // the code is checked first
	}
	for _, tt := range tests {
		_, err := validateClose(tt.code, tt.reason)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("validateClose(%d, %d bytes) = %v; want %v", tt.code, len(tt.reason), err, tt.want)
		}
	}
}

func TestDOMExceptionIs(t *testing.T) {
	err := syntaxError("bad")
	if !errors.Is(err, ErrSyntax) {
		t.Error("a SyntaxError does not match ErrSyntax")
	}
	if errors.Is(err, ErrInvalidAccess) || errors.Is(err, ErrInvalidState) {
		t.Error("a SyntaxError matches another sentinel")
	}
	if !errors.Is(err, &DOMException{Name: "SyntaxError", Message: "bad"}) {
		t.Error("a SyntaxError does not match an equal DOMException")
	}
	if errors.Is(err, &DOMException{Name: "SyntaxError", Message: "other"}) {
		t.Error("a SyntaxError matches a DOMException with another message")
	}
	var de *DOMException
	if !errors.As(err, &de) || de.Name != "SyntaxError" || de.Message != "bad" {
		t.Errorf("errors.As gives %+v", de)
	}
	if got := err.Error(); got != "SyntaxError: bad" {
		t.Errorf("Error() = %q", got)
	}
}
