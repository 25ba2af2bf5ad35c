package topicname_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/duplexws/websocket/internal/topicname"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"news", true},
		{"chat.lobby", true},
		{"a.b.c", true},
		{"user:42.inbox", true},
		{"Room_1-b", true},
		{strings.Repeat("a", 255), true},
		{"", false},
		{strings.Repeat("a", 256), false},
		{".a", false},
		{"a.", false},
		{"a..b", false},
		{"a b", false},
		{"a.*", false},
		{"a.>", false},
		{"caf\u00e9", false},
		{"a\nb", false},
		{"a/b", false},
	} {
		err := topicname.Check(tc.name)
		if tc.ok && err != nil {
			t.Errorf("Check(%q) = %v, want nil", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, topicname.ErrBad) {
			t.Errorf("Check(%q) = %v, want ErrBad", tc.name, err)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"news", "chat.lobby", "a..b", "a.*", ">", "x y", "caf\u00e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if topicname.Check(name) != nil {
			return
		}
		// What is accepted must be a plain NATS subject and safe in a log
		// line: no wildcard, no space, no empty token, no control or
		// non-ASCII byte.
		if name == "" || len(name) > 255 || strings.ContainsAny(name, "*> \t\r\n") ||
			strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			t.Fatalf("Check accepted %q", name)
		}
		for i := 0; i < len(name); i++ {
			if name[i] < 0x21 || name[i] > 0x7e {
				t.Fatalf("Check accepted %q with byte %#x", name, name[i])
			}
		}
	})
}
