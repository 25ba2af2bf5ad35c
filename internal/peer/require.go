package peer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Peer names an outside WebSocket implementation used by interop tests.
type Peer string

// The peers a test can require.
const (
	// Chromium is Debian's chromium browser, driven headless.
	Chromium Peer = "chromium"
	// Python is a python3 interpreter that can import the websockets library.
	Python Peer = "python3-websockets"
	// Node is the node runtime with the npm package ws installed in
	// internal/peer/node/node_modules.
	Node Peer = "node-ws"
	// Firefox is Debian's firefox-esr, run headless.
	Firefox Peer = "firefox-esr"
	// Nginx is Debian's nginx, run as a reverse proxy in front of a server.
	Nginx Peer = "nginx"
	// HAProxy is Debian's haproxy, run as a reverse proxy in front of a server.
	HAProxy Peer = "haproxy"
)

// install says, for each peer, what a developer runs to get it.
func (p Peer) install() string {
	switch p {
	case Chromium:
		return "apt-get install chromium"
	case Python:
		return "apt-get install python3-websockets"
	case Node:
		return "npm ci --prefix internal/peer/node (from the repository root; without node, first apt-get install nodejs npm)"
	case Firefox:
		return "apt-get install firefox-esr"
	case Nginx:
		return "apt-get install nginx"
	case HAProxy:
		return "apt-get install haproxy"
	}
	return "an unknown peer " + string(p)
}

// Found describes a peer that Require located.
type Found struct {
	// Path is the executable: the browser, or the interpreter to run scripts with.
	Path string
	// Version is the peer's version as it reports it (for Node, the ws package version).
	Version string
	// Env holds extra KEY=VALUE entries the interpreter needs (NODE_PATH for Node).
	Env []string
}

// probeTimeout bounds each command run to find or identify a peer.
const probeTimeout = 20 * time.Second

// Require returns where peer p is. If p cannot be found, it skips the test
// with a message that says what to install, or fails the test when the
// environment variable CI is "true".
func Require(t testing.TB, p Peer) Found {
	t.Helper()
	f, err := find(p)
	if err != nil {
		missing(t, p, err)
		return Found{}
	}
	t.Logf("peer %s %s at %s", p, f.Version, f.Path)
	return f
}

// missing reports a peer that is not there: a skip on a developer machine, a
// failure in CI.
func missing(t testing.TB, p Peer, err error) {
	t.Helper()
	why := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	msg := fmt.Sprintf("peer %s not available (%s); install it with: %s", p, why, p.install())
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: a missing peer is a failure)")
		return
	}
	t.Skip(msg)
}

func find(p Peer) (Found, error) {
	switch p {
	case Chromium:
		return findChromium()
	case Python:
		return findPython()
	case Node:
		return findNode()
	case Firefox:
		return findFirefox()
	case Nginx:
		return findProxy("/usr/sbin/nginx", "nginx", "-v")
	case HAProxy:
		return findProxy("/usr/sbin/haproxy", "haproxy", "-v")
	}
	return Found{}, fmt.Errorf("unknown peer %q", p)
}

func findChromium() (Found, error) {
	path, err := lookPath("/usr/bin/chromium", "chromium")
	if err != nil {
		return Found{}, err
	}
	out, err := probe(nil, path, "--version")
	if err != nil {
		return Found{}, err
	}
	return Found{Path: path, Version: lastLine(out)}, nil
}

func findFirefox() (Found, error) {
	path, err := lookPath("/usr/bin/firefox-esr", "firefox-esr")
	if err != nil {
		return Found{}, err
	}
	out, err := probe(nil, path, "--version")
	if err != nil {
		return Found{}, err
	}
	return Found{Path: path, Version: lastLine(out)}, nil
}

// findProxy finds a proxy's executable at path or in PATH as name, and
// its version from what versionFlag prints on either output.
func findProxy(path, name, versionFlag string) (Found, error) {
	path, err := lookPath(path, name)
	if err != nil {
		return Found{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, versionFlag).CombinedOutput()
	if err != nil {
		return Found{}, fmt.Errorf("%s %s: %w: %s", path, versionFlag, err, errorLine(string(out)))
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return Found{Path: path, Version: first}, nil
}

// findPython prefers Debian's /usr/bin/python3, where python3-websockets
// installs, over whatever python3 comes first in PATH (often a pyenv shim
// without the library).
func findPython() (Found, error) {
	var errs []error
	for _, cand := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(cand)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out, err := probe(nil, path, "-c", "import websockets; print(websockets.__version__)")
		if err != nil {
			errs = append(errs, fmt.Errorf("%s cannot import websockets: %w", path, err))
			continue
		}
		return Found{Path: path, Version: lastLine(out)}, nil
	}
	return Found{}, errors.Join(errs...)
}

func findNode() (Found, error) {
	path, err := lookPath("/usr/bin/node", "node")
	if err != nil {
		return Found{}, err
	}
	dir, err := nodeDir()
	if err != nil {
		return Found{}, err
	}
	env := []string{"NODE_PATH=" + filepath.Join(dir, "node_modules")}
	out, err := probe(env, path, "-e", "process.stdout.write(require('ws/package.json').version)")
	if err != nil {
		return Found{}, fmt.Errorf("node cannot load ws from %s/node_modules: %w", dir, err)
	}
	return Found{Path: path, Version: "ws " + lastLine(out), Env: env}, nil
}

// nodeDir finds internal/peer/node by walking up from the working directory
// (a test's package directory) to the module root.
func nodeDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		cand := filepath.Join(dir, "internal", "peer", "node")
		if _, err := os.Stat(filepath.Join(cand, "package.json")); err == nil {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("internal/peer/node/package.json not found above the working directory")
		}
		dir = parent
	}
}

// lookPath returns the first candidate that is an executable.
func lookPath(cands ...string) (string, error) {
	var errs []error
	for _, c := range cands {
		path, err := exec.LookPath(c)
		if err == nil {
			return path, nil
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
}

// probe runs a short command and returns its standard output.
func probe(env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w: %s", name, err, errorLine(stderr.String()))
	}
	return string(out), nil
}

// errorLine picks from a failed program's stderr the line that says what
// went wrong ("Error: Cannot find module 'ws'" in Node's stack trace,
// "ModuleNotFoundError: No module named 'websockets'" at the end of
// Python's traceback), or else its last line.
func errorLine(stderr string) string {
	var last string
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if head, _, ok := strings.Cut(line, ": "); ok && strings.HasSuffix(head, "Error") && !strings.ContainsAny(head, " \t") {
			return line
		}
		last = line
	}
	return last
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
