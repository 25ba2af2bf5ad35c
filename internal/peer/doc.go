// Package peer finds and starts the outside WebSocket peers that Duplex's
// interop tests talk to: headless Chromium, Python's websockets library and
// Node's ws package.
//
// A test first asks for the peer it needs with [Require]. When the peer is
// missing, the test is skipped with a message naming what to install; when the
// environment variable CI is "true", a missing peer fails the test instead, so
// that a CI run can never pass by skipping everything.
//
//	func TestEchoPython(t *testing.T) {
//		p := peer.StartPython(t, peer.Script{File: "testdata/echo_server.py"})
//		addr, err := p.Line(ctx) // the script prints its address first
//		...
//	}
//
// [StartPython] and [StartNode] call Require themselves. They run a script
// given as text or as a file, capture its standard output (readable line by
// line with [Process.Line]) and standard error, kill it after its timeout or
// when the test ends, and log what it printed if the test failed.
//
// [Browser] starts Debian's chromium headless, with a fresh profile directory,
// and returns a chromedp context bound to a timeout; the browser is shut down
// and its profile removed when the test ends. [OpenPage] opens a page in
// chromium or firefox-esr, headless with a fresh profile that accepts the
// test server's self-signed certificate; the page reports to the test server.
//
// What to install (Debian, as root, from the module root; .ci/run does the same):
//
//	apt-get install chromium firefox-esr python3-websockets
//	apt-get install nodejs npm   # only where node is not installed yet
//	npm ci --prefix internal/peer/node
//
// Python scripts run with Debian's /usr/bin/python3 when it can import
// websockets (a python3 earlier in PATH, such as a pyenv shim, often cannot);
// Node scripts find ws through NODE_PATH.
package peer
