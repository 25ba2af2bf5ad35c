//go:build race

package h2stream

// raceEnabled reports a build with the race detector, which flags the
// writes these tests make to net/http's ResponseWriter after its handler
// returned: the behaviour they pin is a race inside net/http itself.
const raceEnabled = true
