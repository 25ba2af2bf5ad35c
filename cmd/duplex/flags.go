package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// usageError is a mistake on the command line; it ends duplex with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef formats a usageError.
func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// errHelpShown tells that --help was asked for and answered.
var errHelpShown = errors.New("help shown")

// oneLine keeps the first line of s, so that every error fits on one line.
func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// newFlagSet returns a flag set that reports errors as values and prints
// nothing by itself. synopsis is the usage line after "duplex NAME".
func newFlagSet(env *cliEnv, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := env.stdout
		fmt.Fprintf(w, "Usage: duplex %s %s\n\n%s\n", name, synopsis, about)
		if strings.Contains(synopsis, "URL") {
			fmt.Fprintf(w, "\n%s\n", urlHelp)
		}
		fmt.Fprint(w, "\nFlags:\n")
		printFlags(w, fs)
	}
	return fs
}

// printFlags lists the flags of fs as users type them: --name, or -X for a
// one-letter alias.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		line := "  " + dash + f.Name
		if typ != "" {
			line += " " + typ
		}
		switch f.DefValue {
		case "", "0", "false", "0s":
		default:
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}

// parseFlags parses args with fs and returns the positional arguments. When
// interspersed is true, flags may follow positional arguments (duplex
// autobahn URL --agent NAME); otherwise the first positional argument ends
// the flags, as "--" always does.
func parseFlags(fs *flag.FlagSet, args []string, interspersed bool) ([]string, error) {
	// The flag package prints the usage on every mistake; show it only for --help.
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage()
				return nil, errHelpShown
			}
			return nil, &usageError{msg: doubleDash(err.Error())}
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if len(rest) == 0 || !interspersed || (consumed > 0 && args[consumed-1] == "--") {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagErrorMarks precede a flag's name, with its one dash, in the errors of
// the flag package.
var flagErrorMarks = []string{"not defined: -", "for flag -", "for -", "needs an argument: -"}

// doubleDash rewrites the flag package's error msg to name a long flag as
// users type it and the help lists it, --size rather than -size.
func doubleDash(msg string) string {
	for _, m := range flagErrorMarks {
		i := strings.Index(msg, m)
		if i < 0 {
			continue
		}
		name := msg[i+len(m):]
		if j := strings.IndexAny(name, ": "); j >= 0 {
			name = name[:j]
		}
		if len(name) > 1 {
			at := i + len(m) - 1
			return msg[:at] + "-" + msg[at:]
		}
		return msg
	}
	return msg
}

// urlHelp is the help text of the URL argument.
const urlHelp = "URL is ws://, wss://, http:// or https://HOST[:PORT]/PATH; without a scheme,\n" +
	"HOST:PORT/PATH means ws://HOST:PORT/PATH."

// urlArg parses args with fs, flags before or after the URL, and returns the
// one WebSocket URL they must hold.
func urlArg(fs *flag.FlagSet, args []string) (*url.URL, error) {
	pos, err := parseFlags(fs, args, true)
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		return nil, usagef("want exactly one URL, got %d arguments", len(pos))
	}
	return parseWSURL(pos[0])
}

// flagRule is a condition on the value of one flag, and what it asks for.
type flagRule struct {
	name string // without the dashes
	ok   bool
	want string // "must be positive"
}

// checkFlags reports the first rule broken, naming its flag alone.
func checkFlags(rules ...flagRule) error {
	for _, r := range rules {
		if !r.ok {
			return usagef("--%s %s", r.name, r.want)
		}
	}
	return nil
}

// notNegative is the rule of a count or duration where 0 means none or never.
func notNegative[T int | float64 | time.Duration](name string, v T) flagRule {
	return flagRule{name, v >= 0, "must not be negative"}
}

// positive is the rule of a count or duration that must be set.
func positive[T int | float64 | time.Duration](name string, v T) flagRule {
	return flagRule{name, v > 0, "must be positive"}
}

// listFlag is a flag that may be repeated and whose values may be comma lists.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// headerFlag collects repeated "Key: Value" flags into an http.Header.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string {
	if f.h == nil {
		return ""
	}
	var parts []string
	for k, vs := range f.h {
		for _, v := range vs {
			parts = append(parts, k+": "+v)
		}
	}
	return strings.Join(parts, ", ")
}

func (f *headerFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, ":")
	k = strings.TrimSpace(k)
	if !ok || k == "" || strings.ContainsAny(k, " \t") {
		return fmt.Errorf("header %q is not of the form 'Key: Value'", s)
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Add(k, strings.TrimSpace(v))
	return nil
}

// byteSizeFlag is a size in bytes written as 512, 64k, 16M or 2G (powers of 1024).
type byteSizeFlag int64

func (b *byteSizeFlag) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSizeFlag) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = byteSizeFlag(n)
	return nil
}

// parseByteSize reads 512, 64k, 16M, 2G (powers of 1024); -1 stands for "no limit".
func parseByteSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "b")
	mult := int64(1)
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "m"):
		mult, t = 1<<20, t[:len(t)-1]
	case strings.HasSuffix(t, "g"):
		mult, t = 1<<30, t[:len(t)-1]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < -1 || (n == -1 && mult != 1) || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is not a byte count like 4096, 64k or 16M", s)
	}
	return n * mult, nil
}

// parseWSURL checks that s is an absolute ws, wss, http or https URL with a
// host. Without a scheme, s is HOST[:PORT][/PATH] and the scheme is ws.
func parseWSURL(s string) (*url.URL, error) {
	raw := s
	if !strings.Contains(s, "://") {
		host, _, _ := strings.Cut(s, "/")
		switch strings.ToLower(strings.TrimSuffix(host, ":")) {
		case "ws", "wss", "http", "https":
			return nil, usagef("bad URL %q: a scheme must be followed by ://", s)
		}
		raw = "ws://" + s
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, usagef("bad URL %q: %v", s, errors.Unwrap(err))
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return nil, usagef("bad URL %q: the scheme must be ws, wss, http or https", s)
	}
	if u.Host == "" {
		return nil, usagef("bad URL %q: no host", s)
	}
	if u.Fragment != "" {
		return nil, usagef("bad URL %q: a WebSocket URL has no #fragment", s)
	}
	if _, port, err := net.SplitHostPort(u.Host); err == nil {
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			return nil, usagef("bad URL %q: bad port %q", s, port)
		}
	}
	return u, nil
}

// checkAddr checks that addr is a HOST:PORT to listen on.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("bad --addr %q: want HOST:PORT", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return usagef("bad --addr %q: bad port", addr)
	}
	return nil
}

// oneOf checks that a flag's value is one of the allowed words.
func oneOf(flagName, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return usagef("bad --%s %q: want one of %s", flagName, v, strings.Join(allowed, ", "))
}
