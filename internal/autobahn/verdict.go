package autobahn

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Verdict is the outcome of a case, in Autobahn's words.
type Verdict string

// The verdicts a case can end with.
const (
	// OK: the peer did what the case expects, closing included.
	OK Verdict = "OK"
	// NonStrict: the peer did something the spec allows but does not prefer,
	// such as failing a bad UTF-8 message only at its end rather than at the
	// first bad byte; the reason says which.
	NonStrict Verdict = "NON-STRICT"
	// Failed: the peer did something the spec forbids, or not what it requires.
	Failed Verdict = "FAILED"
	// Informational: the spec leaves the behaviour open; the reason says what
	// the peer did.
	Informational Verdict = "INFORMATIONAL"
	// Unimplemented: the peer does not implement what the case tests (an
	// extension it refused), which the spec allows.
	Unimplemented Verdict = "UNIMPLEMENTED"
)

// Result is the verdict of one case on one peer.
type Result struct {
	ID       string // Autobahn's number of the case, like "6.4.1"
	Desc     string
	Verdict  Verdict
	Reason   string // why the verdict, one sentence
	Duration time.Duration
	// CloseCode is the code of the peer's close frame, or -1 when it sent
	// none or one without a code.
	CloseCode int
}

// EventKind is what a received Event is.
type EventKind int

// The kinds of events a case sees; EventTimeout is recorded by the case
// itself when a wait passed with the connection still open.
const (
	EventMessage EventKind = iota
	EventPing
	EventPong
	EventTimeout
)

// Event is one thing that happened on the connection during a case, in the
// order it happened: a message, ping or pong from the peer, or a wait the
// case marked.
type Event struct {
	Kind    EventKind
	Binary  bool   // for messages: binary rather than text
	RSV     byte   // for messages: the RSV bits of the message's first frame
	Payload []byte // message data, ping or pong payload, or the tag of a timeout
}

// Text is the event of a text message with payload s.
func Text(s string) Event { return Event{Kind: EventMessage, Payload: []byte(s)} }

// TextBytes is the event of a text message with payload p.
func TextBytes(p []byte) Event { return Event{Kind: EventMessage, Payload: p} }

// Pong is the event of a pong with payload p.
func Pong(p string) Event { return Event{Kind: EventPong, Payload: []byte(p)} }

// Timeout is the event a case records when its wait named tag passed with
// the connection open.
func Timeout(tag string) Event { return Event{Kind: EventTimeout, Payload: []byte(tag)} }

// equal compares two events the way the verdict does: RSV bits are not
// compared, payloads are.
func (e Event) equal(o Event) bool {
	return e.Kind == o.Kind && e.Binary == o.Binary && bytes.Equal(e.Payload, o.Payload)
}

// String describes the event briefly: long payloads are cut.
func (e Event) String() string {
	p := e.Payload
	cut := ""
	if len(p) > 24 {
		p, cut = p[:24], fmt.Sprintf("...(%d bytes)", len(e.Payload))
	}
	switch e.Kind {
	case EventMessage:
		if e.Binary {
			return fmt.Sprintf("binary(%x%s)", p, cut)
		}
		return fmt.Sprintf("text(%q%s)", p, cut)
	case EventPing:
		return fmt.Sprintf("ping(%q%s)", p, cut)
	case EventPong:
		return fmt.Sprintf("pong(%q%s)", p, cut)
	default:
		return fmt.Sprintf("timeout(%s)", p)
	}
}

// eventsString lists events briefly, at most the first eight.
func eventsString(es []Event) string {
	if len(es) == 0 {
		return "nothing"
	}
	var parts []string
	for i, e := range es {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("... %d more", len(es)-8))
			break
		}
		parts = append(parts, e.String())
	}
	return strings.Join(parts, ", ")
}

func eventsEqual(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].equal(b[i]) {
			return false
		}
	}
	return true
}

// CloseExpectation is how a case expects the connection to end.
type CloseExpectation struct {
	// ByMe: the suite starts the closing handshake (true), or the peer
	// closes or fails the connection (false).
	ByMe bool
	// Codes are the close codes the peer may send; a close frame without a
	// code, or a TCP connection dropped without one, is always accepted
	// unless RequireClean is set.
	Codes []int
	// RequireClean: the closing handshake must complete, close frames both
	// ways, before the TCP connection ends.
	RequireClean bool
}

// codesString lists codes for a reason.
func codesString(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, " or ")
}
