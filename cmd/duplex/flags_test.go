package main

import (
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestUsageMistakesExit2WithOneLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "Usage"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"connect"}, "want exactly one URL"},
		{[]string{"connect", "ftp://example.com/"}, "scheme must be ws, wss, http or https"},
		{[]string{"connect", "ws://"}, "no host"},
		{[]string{"connect", "ws://127.0.0.1:99999/"}, "bad port"},
		{[]string{"connect", "::not a url"}, "bad URL"},
		{[]string{"connect", "--no-such-flag", "ws://127.0.0.1:1/"}, "flag provided but not defined"},
		{[]string{"connect", "--binary-as", "octal", "ws://127.0.0.1:1/"}, "--binary-as"},
		{[]string{"connect", "-H", "no colon", "ws://127.0.0.1:1/"}, "Key: Value"},
		{[]string{"connect", "--proxy", "socks://x", "ws://127.0.0.1:1/"}, "--proxy"},
		{[]string{"connect", "--ping-interval", "soon", "ws://127.0.0.1:1/"}, "invalid value"},
		{[]string{"serve", "--addr", "nowhere"}, "--addr"},
		{[]string{"serve", "--log-format", "xml"}, "--log-format"},
		{[]string{"serve", "--tls-cert", "a.pem"}, "go together"},
		{[]string{"serve", "extra"}, "unexpected argument"},
		{[]string{"exec", "--addr", "127.0.0.1:0"}, "no PROGRAM"},
		{[]string{"exec", "--", "/no/such/program"}, "not found"},
		{[]string{"bench", "--conns", "0", "ws://127.0.0.1:1/"}, "--conns"},
		{[]string{"bench", "--size", "lots", "ws://127.0.0.1:1/"}, "for flag --size: "},
		{[]string{"bench", "--size"}, "needs an argument: --size"},
		{[]string{"bench", "--no-such-flag", "ws://127.0.0.1:1/"}, "not defined: --no-such-flag"},
		{[]string{"connect", "--insecure=maybe", "ws://127.0.0.1:1/"}, "for --insecure: "},
		{[]string{"connect", "-H"}, "needs an argument: -H "},
		{[]string{"bench", "http//oops"}, "bad URL"},
		{[]string{"connect", "ws:/h"}, "://"},
		{[]string{"autobahn", "ws://127.0.0.1:1/", "--agent", ""}, "--agent"},
		{[]string{"autobahn", "a", "b"}, "want exactly one URL"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runDuplex(t, "", tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", r.code, r.stderr)
			}
			if tc.args != nil && strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q does not mention %q", r.stderr, tc.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

// TestEachBadFlagNamedAlone checks that a bad value is reported with its
// own flag only, not in a sentence about others.
func TestEachBadFlagNamedAlone(t *testing.T) {
	const url = "ws://127.0.0.1:1/"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"exec", "--kill-grace", "0", "--", "cat"}, "--kill-grace must be positive"},
		{[]string{"exec", "--max-procs", "-1", "--", "cat"}, "--max-procs must not be negative"},
		{[]string{"serve", "--max-conns", "-1"}, "--max-conns must not be negative"},
		{[]string{"serve", "--idle-timeout", "-1s"}, "--idle-timeout must not be negative"},
		{[]string{"connect", "--ping-interval", "-1s", url}, "--ping-interval must not be negative"},
		{[]string{"connect", "--linger", "-1s", url}, "--linger must not be negative"},
		{[]string{"connect", "--connect-timeout", "0", url}, "--connect-timeout must be positive"},
		{[]string{"bench", "--rate", "-1", url}, "--rate must not be negative"},
		{[]string{"bench", "--pipeline", "-1", url}, "--pipeline must not be negative"},
		{[]string{"autobahn", "--case-timeout", "0", url}, "--case-timeout must be positive"},
		{[]string{"autobahn", "--agent", "", url}, "--agent must not be empty"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runDuplex(t, "", tc.args...)
			// The flag, and --help in "(see duplex NAME --help)".
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "--") != 2 {
				t.Fatalf("exit %d, stderr %q; want 2 and %q naming no other flag", r.code, r.stderr, tc.want)
			}
		})
	}
}

func TestHelpAndVersionExit0(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"--version"}, {"serve", "--help"}, {"connect", "--help"}, {"autobahn", "--help"},
		{"exec", "--help"}, {"bench", "-h"},
	} {
		r := runDuplex(t, "", args...)
		if r.code != 0 || r.stdout == "" || r.stderr != "" {
			t.Errorf("duplex %s: exit %d, stdout %d bytes, stderr %q", strings.Join(args, " "), r.code, len(r.stdout), r.stderr)
		}
		if len(args) == 2 && !strings.Contains(r.stdout, "Usage: duplex "+args[0]) {
			t.Errorf("duplex %s: no usage line in %q", strings.Join(args, " "), r.stdout)
		}
		// Every flag is listed with a line of help under it.
		lines := strings.Split(r.stdout, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "  -") && (i+1 >= len(lines) || len(strings.TrimSpace(lines[i+1])) < 10) {
				t.Errorf("duplex %s: flag %q has no help text", args[0], strings.TrimSpace(l))
			}
		}
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	tests := []struct {
		args         []string
		interspersed bool
		wantPos      []string
		wantAgent    string
	}{
		{[]string{"ws://h/", "--agent", "x"}, true, []string{"ws://h/"}, "x"},
		{[]string{"--agent", "x", "ws://h/"}, true, []string{"ws://h/"}, "x"},
		{[]string{"a", "--agent", "x", "b"}, true, []string{"a", "b"}, "x"},
		{[]string{"--", "--agent", "x"}, true, []string{"--agent", "x"}, ""},
		{[]string{"--agent", "x", "--", "cat", "--agent", "y"}, false, []string{"cat", "--agent", "y"}, "x"},
		{[]string{"cat", "-n"}, false, []string{"cat", "-n"}, ""},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		agent := fs.String("agent", "", "")
		pos, err := parseFlags(fs, tc.args, tc.interspersed)
		if err != nil || !reflect.DeepEqual(pos, tc.wantPos) || *agent != tc.wantAgent {
			t.Errorf("%q: positional %q agent %q err %v; want %q %q", tc.args, pos, *agent, err, tc.wantPos, tc.wantAgent)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"4096", 4096, true}, {"64k", 64 << 10, true}, {"16M", 16 << 20, true},
		{"2g", 2 << 30, true}, {"1MB", 1 << 20, true}, {"-1", -1, true},
		{"", 0, false}, {"-2", 0, false}, {"-1k", 0, false}, {"1.5M", 0, false}, {"lots", 0, false},
	}
	for _, tc := range tests {
		got, err := parseByteSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestSelectSubprotocolPrefersClientOrder checks that serve and exec agree
// on the first subprotocol the client offered that --subprotocols lists.
func TestSelectSubprotocolPrefersClientOrder(t *testing.T) {
	sf := &serverFlags{subprotocols: listFlag{"a", "b", "c"}}
	opts := sf.acceptOptions()
	for _, tc := range []struct {
		offered []string
		want    string
	}{
		{[]string{"c", "b"}, "c"},
		{[]string{"x", "b"}, "b"},
		{[]string{"x", "y"}, ""},
		{nil, ""},
	} {
		if got := opts.SelectSubprotocol(httptest.NewRequest(http.MethodGet, "/", nil), tc.offered); got != tc.want {
			t.Errorf("offered %q: agreed %q, want %q", tc.offered, got, tc.want)
		}
	}
}

func TestCGIEnv(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "http://example.com:8080/chat/room?x=1&y=%20", nil)
	r.RemoteAddr = "10.1.2.3:5555"
	r.Header.Set("Sec-WebSocket-Key", "k")
	r.Header.Add("X-Multi", "a")
	r.Header.Add("X-Multi", "b")
	env := map[string]string{}
	for _, kv := range cgiEnv(r, true) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	want := map[string]string{
		"REMOTE_ADDR": "10.1.2.3", "REMOTE_PORT": "5555", "SERVER_NAME": "example.com", "SERVER_PORT": "8080",
		"REQUEST_METHOD": "GET", "REQUEST_URI": "http://example.com:8080/chat/room?x=1&y=%20",
		"PATH_INFO": "/chat/room", "QUERY_STRING": "x=1&y=%20", "SERVER_SOFTWARE": "duplex", "HTTPS": "on",
		"HTTP_SEC_WEBSOCKET_KEY": "k", "HTTP_X_MULTI": "a, b",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}
}

func TestSendableCloseCodes(t *testing.T) {
	for code, ok := range map[int]bool{999: false, 1000: true, 1003: true, 1004: false, 1005: false, 1006: false,
		1007: true, 1014: true, 1015: false, 2999: false, 3000: true, 4999: true, 5000: false} {
		if sendableCode(code) != ok {
			t.Errorf("sendableCode(%d) = %v, want %v", code, !ok, ok)
		}
	}
}

// TestParseWSURLWithoutScheme checks that HOST:PORT and HOST:PORT/PATH,
// as users type them, are ws:// URLs.
func TestParseWSURLWithoutScheme(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.1:8080/echo", "ws://127.0.0.1:8080/echo"},
		{"127.0.0.1:8080", "ws://127.0.0.1:8080"},
		{"localhost/chat?room=a", "ws://localhost/chat?room=a"},
		{"[::1]:9/x", "ws://[::1]:9/x"},
		{"wss://h/x", "wss://h/x"},
	}
	for _, tc := range tests {
		u, err := parseWSURL(tc.in)
		if err != nil || u.String() != tc.want {
			t.Errorf("parseWSURL(%q) = %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
}

// TestBareDuplexListsCommands checks that duplex without arguments prints
// each command on one line, and no flags.
func TestBareDuplexListsCommands(t *testing.T) {
	r := runDuplex(t, "")
	if r.code != 2 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	for _, c := range commands() {
		if strings.Count(r.stderr, "\n  "+c.name+" ") != 1 {
			t.Errorf("usage lacks a line for %s:\n%s", c.name, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "--addr") || strings.Count(r.stderr, "\n") > len(commands())+6 {
		t.Errorf("usage is more than the commands:\n%s", r.stderr)
	}
}

func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"0", "64k", "16M", "2G", "-1", "1MB", "9223372036854775807", "4611686018427387904k", " 3 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseByteSize(s)
		if err == nil && n < -1 {
			t.Fatalf("parseByteSize(%q) = %d", s, n)
		}
	})
}

func FuzzParseWSURL(f *testing.F) {
	for _, s := range []string{"ws://127.0.0.1:8080/echo", "wss://h/x?y=1", "http://[::1]:1/", "ws://h:0/", "ws://h#f", "ws:/h", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseWSURL(s)
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("parseWSURL(%q): error %v is not a usage error", s, err)
			}
			return
		}
		if u.Host == "" || (u.Scheme != "ws" && u.Scheme != "wss" && u.Scheme != "http" && u.Scheme != "https") {
			t.Fatalf("parseWSURL(%q) accepted %#v", s, u)
		}
	})
}

func FuzzHeaderFlag(f *testing.F) {
	for _, s := range []string{"X-A: 1", "Host: example.com", "bad", ": v", "K:", "A B: c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var h headerFlag
		if h.Set(s) != nil {
			return
		}
		if len(h.h) != 1 {
			t.Fatalf("Set(%q) stored %v", s, h.h)
		}
		for k := range h.h {
			if k == "" || strings.ContainsAny(k, " \t") {
				t.Fatalf("Set(%q) stored the key %q", s, k)
			}
		}
	})
}

// TestStallTimeoutDefaultLeftToLibrary checks that serve and exec give the
// handshake no StallTimeout when --stall-timeout is its default, the
// library's, so that connections keep no record of their options, and the
// flag's value otherwise.
func TestStallTimeoutDefaultLeftToLibrary(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
	}{
		{nil, 0},
		{[]string{"--stall-timeout", "30s"}, 0},
		{[]string{"--stall-timeout", "300ms"}, 300 * time.Millisecond},
		{[]string{"--stall-timeout", "1m"}, time.Minute},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		var sf serverFlags
		sf.register(fs)
		if _, err := sf.parse(fs, tc.args); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if got := sf.acceptOptions().StallTimeout; got != tc.want {
			t.Errorf("%q: AcceptOptions.StallTimeout %v, want %v", tc.args, got, tc.want)
		}
	}
}

// TestTCPKeepAliveFlag checks what --tcp-keepalive gives the listener and
// the engine: 15 s by default, none for 0, and a usage error when negative.
func TestTCPKeepAliveFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
	}{
		{nil, 15 * time.Second},
		{[]string{"--tcp-keepalive", "0"}, -1},
		{[]string{"--tcp-keepalive", "1m"}, time.Minute},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		var sf serverFlags
		sf.register(fs)
		if _, err := sf.parse(fs, tc.args); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if got := sf.keepAlive(); got != tc.want {
			t.Errorf("%q: keep-alive %v, want %v", tc.args, got, tc.want)
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var sf serverFlags
	sf.register(fs)
	if _, err := sf.parse(fs, []string{"--tcp-keepalive", "-1s"}); err == nil {
		t.Error("--tcp-keepalive -1s was taken")
	}
}
