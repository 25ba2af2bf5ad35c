package autobahn

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// noDeadline clears a deadline.
var noDeadline time.Time

// Case is one numbered test of the suite.
type Case struct {
	ID   string // Autobahn's number, like "1.1.1"
	Desc string // what the case sends and expects, one sentence
	// Offer is the Sec-WebSocket-Extensions header the suite sends when it
	// is the client; empty offers nothing.
	Offer string
	// Answer chooses, when the suite is the server, the
	// Sec-WebSocket-Extensions header of the answer to the client's offer;
	// nil accepts no extension.
	Answer func(offer string) string
	// Run plays the case on an open connection: it sends frames, arranges
	// how the connection ends (CloseAfter, KillAfter, or an expectation
	// that closes once met) and returns; the session then waits for the
	// connection to end and judges.
	Run func(*Session)
}

// Judgement is the verdict being formed at the end of a case, which a hook
// registered with Session.OnEnd may change, as Autobahn's cases that
// decide their own outcome do.
type Judgement struct {
	Behavior Verdict // from the events received
	Reason   string
	// CloseOK reports whether the connection ended as expected; CloseReason
	// says how it ended otherwise.
	CloseOK     bool
	CloseReason string
	// CloseNonStrict marks an ending the spec allows but does not prefer.
	CloseNonStrict bool
}

// outcome is one list of events a case accepts, with the verdict it earns.
type outcome struct {
	verdict Verdict
	reason  string
	events  []Event
}

// Session is one connection of one case: it sends what the case asks,
// records what the peer sends, answers pings and close frames as a
// conforming endpoint would, and judges the case when the connection ends.
// Its methods may be called from the case's goroutine while the session's
// reader runs.
type Session struct {
	conn   net.Conn
	br     *bufio.Reader
	client bool // the suite is the client: frames are masked
	opts   Options
	offer  string
	answer string

	wmu sync.Mutex // serializes writes of whole frames

	mu          sync.Mutex
	received    []Event
	changed     chan struct{} // closed and replaced when received grows or the state changes
	expected    []outcome
	close       CloseExpectation
	closeSet    bool
	decode      func(rsv byte, payload []byte) ([]byte, error)
	hooks       []func(*Judgement)
	sentClose   bool
	gotClose    bool
	closedByMe  bool
	remoteCode  int
	remoteWhy   string
	violation   string
	partial     bool // a frame was begun and not finished
	lost        bool
	killedByMe  bool
	droppedByMe bool
	done        chan struct{} // closed when the TCP connection has ended
}

func newSession(h *handshake, client bool, opts Options) *Session {
	return &Session{
		conn:       h.conn,
		br:         h.br,
		client:     client,
		opts:       opts,
		offer:      h.offer,
		answer:     h.answer,
		changed:    make(chan struct{}),
		remoteCode: -1,
		done:       make(chan struct{}),
	}
}

// Seconds scales Autobahn's waits: n of Autobahn's seconds last n times
// Options.Wait.
func (s *Session) Seconds(n float64) time.Duration {
	return time.Duration(n * float64(s.opts.wait()))
}

// Offer is the Sec-WebSocket-Extensions header of the opening request.
func (s *Session) Offer() string { return s.offer }

// Answer is the Sec-WebSocket-Extensions header of the opening answer:
// what was negotiated.
func (s *Session) Answer() string { return s.answer }

// IsClient reports whether the suite is the client (and the peer a server).
func (s *Session) IsClient() bool { return s.client }

// SetDecoder makes the session accept messages whose first frame has RSV
// bits set (as a negotiated extension defines them) and record them as
// decode returns them. Without a decoder such a message is a protocol
// violation of the peer.
func (s *Session) SetDecoder(decode func(rsv byte, payload []byte) ([]byte, error)) {
	s.mu.Lock()
	s.decode = decode
	s.mu.Unlock()
}

// Expect adds events the peer may send during the case, and the verdict
// they earn; reason explains a verdict other than OK.
func (s *Session) Expect(v Verdict, reason string, events ...Event) {
	s.mu.Lock()
	s.expected = append(s.expected, outcome{v, reason, events})
	s.mu.Unlock()
}

// ExpectClose sets how the connection must end.
func (s *Session) ExpectClose(c CloseExpectation) {
	s.mu.Lock()
	s.close, s.closeSet = c, true
	s.mu.Unlock()
}

// OnEnd registers a hook that may change the judgement once the
// connection has ended.
func (s *Session) OnEnd(hook func(*Judgement)) {
	s.mu.Lock()
	s.hooks = append(s.hooks, hook)
	s.mu.Unlock()
}

// Record adds an event of the case's own, like a Timeout.
func (s *Session) Record(e Event) {
	s.mu.Lock()
	s.received = append(s.received, e)
	s.notifyLocked()
	s.mu.Unlock()
}

// Events returns the events recorded so far.
func (s *Session) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.received...)
}

// Open reports whether the connection is open: no close frame sent or
// received, and the TCP connection up.
func (s *Session) Open() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.openLocked()
}

func (s *Session) openLocked() bool { return !s.sentClose && !s.gotClose && !s.lost }

// Pause waits d and reports whether the connection is still open then.
func (s *Session) Pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.done:
	}
	return s.Open()
}

// WaitEvents waits until at least n events are recorded, the connection
// ends, or d passes, and reports whether n events are there.
func (s *Session) WaitEvents(n int, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		s.mu.Lock()
		have, ch := len(s.received), s.changed
		s.mu.Unlock()
		if have >= n {
			return true
		}
		select {
		case <-ch:
		case <-s.done:
			return len(s.Events()) >= n
		case <-t.C:
			return false
		}
	}
}

func (s *Session) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// SendFrame writes f as one piece.
func (s *Session) SendFrame(f Frame) { s.SendFrameParts(f, nil, nil) }

// SendMessage writes a whole message in one frame.
func (s *Session) SendMessage(opcode byte, p []byte) {
	s.SendFrame(Frame{Fin: true, Opcode: opcode, Payload: p})
}

// SendFragmented writes a message as frames of at most size payload bytes.
func (s *Session) SendFragmented(opcode byte, p []byte, size int) {
	op := opcode
	for {
		n := min(size, len(p))
		s.SendFrame(Frame{Fin: n == len(p), Opcode: op, Payload: p[:n]})
		p, op = p[n:], opContinuation
		if len(p) == 0 {
			return
		}
	}
}

// SendChopped writes f in writes of chop bytes of its wire form, header
// included, waiting pause between them.
func (s *Session) SendChopped(f Frame, chop int, pause time.Duration) {
	s.sendWire(f, func(wire []byte) []int {
		var cuts []int
		for c := chop; c < len(wire); c += chop {
			cuts = append(cuts, c)
		}
		return cuts
	}, func(int) bool {
		if pause > 0 {
			time.Sleep(pause)
		}
		return true
	})
}

// SendFrameParts writes f in pieces cut at the payload offsets cuts; before
// each piece after the first it calls between with the piece's index, and
// stops, leaving the frame unfinished, when between returns false. Other
// frames wait until the whole frame is written or abandoned.
func (s *Session) SendFrameParts(f Frame, cuts []int, between func(part int) bool) {
	s.sendWire(f, func(wire []byte) []int {
		head := len(wire) - len(f.Payload)
		out := make([]int, len(cuts))
		for i, c := range cuts {
			out[i] = head + c
		}
		return out
	}, between)
}

func (s *Session) sendWire(f Frame, cutsOf func(wire []byte) []int, between func(int) bool) {
	var key [4]byte
	if s.client {
		rand.Read(key[:])
	}
	wire := appendFrame(nil, f, s.client, key)
	cuts := cutsOf(wire)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	// A close frame with RSV bits is a protocol error to send, not the
	// start of a closing handshake (section 3.7 sends one).
	if f.Opcode == opClose && f.RSV == 0 && !s.noteSentClose() {
		return
	}
	prev := 0
	for i := 0; i <= len(cuts); i++ {
		end := len(wire)
		if i < len(cuts) {
			end = cuts[i]
		}
		if i > 0 {
			s.setPartial(true)
			ok := between == nil || between(i)
			s.setPartial(false)
			if !ok {
				s.setPartial(true)
				return
			}
		}
		if _, err := s.conn.Write(wire[prev:end]); err != nil {
			return
		}
		prev = end
	}
}

func (s *Session) setPartial(p bool) {
	s.mu.Lock()
	s.partial = p
	s.mu.Unlock()
}

// noteSentClose records that a close frame goes out and arms the bound on
// the closing handshake; it reports false when the TCP connection is gone.
func (s *Session) noteSentClose() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost {
		return false
	}
	if !s.sentClose {
		s.sentClose = true
		if !s.gotClose {
			s.closedByMe = true
			time.AfterFunc(s.opts.wait(), s.dropUnanswered)
		}
		s.notifyLocked()
	}
	return true
}

// SendClose writes a close frame with code and reason; a negative code
// sends an empty payload. It starts the closing handshake, as the suite's
// own close does.
func (s *Session) SendClose(code int, reason []byte) {
	s.SendFrame(Frame{Fin: true, Opcode: opClose, Payload: closePayload(code, reason)})
}

// CloseAfter sends a close frame with code 1000 after d, if the connection
// is still open then.
func (s *Session) CloseAfter(d time.Duration) {
	time.AfterFunc(d, func() {
		if s.Open() {
			s.SendClose(1000, nil)
		}
	})
}

// KillAfter drops the TCP connection after d, if it has not ended by then;
// when the case expects the peer to fail the connection, that is a failure.
func (s *Session) KillAfter(d time.Duration) {
	time.AfterFunc(d, func() { s.drop(true) })
}

// dropUnanswered ends the TCP connection when the peer has not answered
// the suite's close frame.
func (s *Session) dropUnanswered() {
	s.mu.Lock()
	answered := s.gotClose
	s.mu.Unlock()
	if !answered {
		s.drop(false)
	}
}

// drop ends the TCP connection from the suite's side; kill marks a drop of
// a connection still open, which the case's kill timer or bound did.
func (s *Session) drop(kill bool) {
	s.mu.Lock()
	if s.lost {
		s.mu.Unlock()
		return
	}
	if kill && s.openLocked() {
		s.killedByMe = true
	}
	s.droppedByMe = true
	s.mu.Unlock()
	s.conn.Close()
}

// readLoop reads the peer's frames until the TCP connection ends.
func (s *Session) readLoop() {
	defer func() {
		s.conn.Close()
		s.mu.Lock()
		s.lost = true
		s.notifyLocked()
		s.mu.Unlock()
		close(s.done)
	}()
	var msg []byte
	var msgOp, msgRSV byte
	inMsg := false
	for {
		f, err := readFrame(s.br, s.opts.maxFrame())
		if err != nil {
			return
		}
		if v := s.checkFrame(f, inMsg); v != "" {
			s.violate(v)
			return
		}
		switch f.Opcode {
		case opText, opBinary, opContinuation:
			if f.Opcode != opContinuation {
				msg, msgOp, msgRSV, inMsg = nil, f.Opcode, f.RSV, true
			}
			msg = append(msg, f.Payload...)
			if !f.Fin {
				continue
			}
			inMsg = false
			if v := s.recordMessage(msgOp, msgRSV, msg); v != "" {
				s.violate(v)
				return
			}
		case opPing:
			s.Record(Event{Kind: EventPing, Payload: f.Payload})
			if s.Open() {
				s.SendFrame(Frame{Fin: true, Opcode: opPong, Payload: f.Payload})
			}
			s.finishWhenDone()
		case opPong:
			s.Record(Event{Kind: EventPong, Payload: f.Payload})
			s.finishWhenDone()
		case opClose:
			if v := s.peerClosed(f.Payload); v != "" {
				s.violate(v)
				return
			}
		}
	}
}

// checkFrame returns what is wrong with a frame from the peer, or "".
func (s *Session) checkFrame(f Frame, inMsg bool) string {
	s.mu.Lock()
	gotClose, decode := s.gotClose, s.decode
	s.mu.Unlock()
	switch {
	case gotClose:
		return fmt.Sprintf("the peer sent a %v after its close frame", f)
	case s.client && f.Masked:
		return fmt.Sprintf("the server sent a masked %v", f)
	case !s.client && !f.Masked:
		return fmt.Sprintf("the client sent an unmasked %v", f)
	case f.Opcode > opBinary && f.Opcode < opClose || f.Opcode > opPong:
		return fmt.Sprintf("the peer sent a reserved opcode in %v", f)
	case isControl(f.Opcode) && (!f.Fin || len(f.Payload) > 125):
		return fmt.Sprintf("the peer sent a fragmented or long control %v", f)
	case isControl(f.Opcode) && f.RSV != 0:
		return fmt.Sprintf("the peer set RSV bits on a control %v", f)
	case f.RSV != 0 && (decode == nil || f.Opcode == opContinuation):
		return fmt.Sprintf("the peer set RSV bits no extension defines in %v", f)
	case f.Opcode == opContinuation && !inMsg:
		return fmt.Sprintf("the peer sent a continuation with no message to continue: %v", f)
	case (f.Opcode == opText || f.Opcode == opBinary) && inMsg:
		return fmt.Sprintf("the peer began a new message inside another: %v", f)
	}
	return ""
}

// recordMessage records a whole message, or returns what is wrong with it.
func (s *Session) recordMessage(op, rsv byte, p []byte) string {
	s.mu.Lock()
	decode := s.decode
	s.mu.Unlock()
	if rsv != 0 {
		var err error
		if p, err = decode(rsv, p); err != nil {
			return fmt.Sprintf("the peer's message with RSV %d does not decode: %v", rsv, err)
		}
	}
	if op == opText && !utf8.Valid(p) {
		return "the peer sent a text message that is not valid UTF-8"
	}
	s.Record(Event{Kind: EventMessage, Binary: op == opBinary, RSV: rsv, Payload: p})
	s.finishWhenDone()
	return ""
}

// violate records a protocol violation of the peer and fails the
// connection with 1002, as a conforming endpoint would.
func (s *Session) violate(v string) {
	s.mu.Lock()
	if s.violation == "" {
		s.violation = v
	}
	s.mu.Unlock()
	s.SendClose(1002, nil)
}

// peerClosed handles the peer's close frame: records its code and answers
// it, or returns what is wrong with it.
func (s *Session) peerClosed(p []byte) string {
	code, why := -1, ""
	if len(p) == 1 {
		return "the peer sent a close frame with a 1-byte payload"
	}
	if len(p) >= 2 {
		code, why = int(binary.BigEndian.Uint16(p)), string(p[2:])
		if !utf8.ValidString(why) {
			return "the peer's close reason is not valid UTF-8"
		}
	}
	s.mu.Lock()
	s.gotClose, s.remoteCode, s.remoteWhy = true, code, why
	answer := !s.sentClose
	partial := s.partial
	s.notifyLocked()
	s.mu.Unlock()
	if answer {
		if partial {
			// A close frame now would land inside the unfinished one.
			s.drop(false)
			return ""
		}
		s.SendClose(max(code, 1000), nil)
	}
	s.closingDone()
	return ""
}

// closingDone ends the TCP connection once close frames went both ways:
// the server drops it at once (RFC 6455 §7.1.1); the client gives the
// server Options.Wait to do so first.
func (s *Session) closingDone() {
	if !s.client {
		s.drop(false)
		return
	}
	time.AfterFunc(s.opts.wait(), func() { s.drop(false) })
}

// finishWhenDone starts the closing handshake once the events received
// match every outcome the case expects, when the case expects the suite to
// close.
func (s *Session) finishWhenDone() {
	s.mu.Lock()
	if len(s.expected) == 0 || !s.closeSet || !s.close.ByMe || !s.openLocked() {
		s.mu.Unlock()
		return
	}
	for _, o := range s.expected {
		if !eventsEqual(s.received, o.events) {
			s.mu.Unlock()
			return
		}
	}
	code := 1000
	if len(s.close.Codes) > 0 {
		code = s.close.Codes[0]
	}
	s.mu.Unlock()
	// Not from the reader itself: a write may wait for the peer to read,
	// and the peer for the suite to read.
	go s.SendClose(code, nil)
}

// play runs c on the session and judges it.
func (s *Session) play(ctx context.Context, c Case) Result {
	start := time.Now()
	stopCtx := context.AfterFunc(ctx, func() { s.drop(true) })
	defer stopCtx()
	limit := time.AfterFunc(s.opts.caseTimeout(), func() { s.drop(true) })
	defer limit.Stop()
	go s.readLoop()
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		c.Run(s)
	}()
	<-s.done
	<-ran
	r := s.judge()
	r.ID, r.Desc, r.Duration = c.ID, c.Desc, time.Since(start)
	return r
}

// judge forms the verdict once the connection has ended, as Autobahn does:
// the events against each expected outcome, then the ending against the
// close expectation.
func (s *Session) judge() Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := Judgement{Behavior: Failed, Reason: "the peer's events differ from those expected: got " + eventsString(s.received)}
	for _, o := range s.expected {
		if eventsEqual(s.received, o.events) {
			j.Behavior, j.Reason = o.verdict, o.reason
			break
		}
	}
	if j.Behavior == Failed && len(s.expected) > 0 {
		j.Reason += "; expected " + eventsString(s.expected[0].events)
	}
	j.CloseOK, j.CloseNonStrict, j.CloseReason = s.judgeCloseLocked()
	for _, h := range s.hooks {
		h(&j)
	}
	r := Result{Verdict: j.Behavior, Reason: j.Reason, CloseCode: s.remoteCode}
	switch {
	case j.Behavior == Informational || j.Behavior == Unimplemented:
	case s.violation != "":
		r.Verdict, r.Reason = Failed, s.violation
	case !j.CloseOK && j.CloseNonStrict:
		if r.Verdict == OK {
			r.Verdict, r.Reason = NonStrict, j.CloseReason
		}
	case !j.CloseOK && r.Verdict == Failed:
		r.Reason += "; " + j.CloseReason
	case !j.CloseOK:
		r.Verdict, r.Reason = Failed, j.CloseReason
	}
	if r.Reason == "" {
		r.Reason = "the peer's events and closing are as expected"
	}
	return r
}

// judgeCloseLocked compares how the connection ended with the case's close
// expectation: whether it is as expected, or else allowed but not
// preferred, and how it ended.
func (s *Session) judgeCloseLocked() (ok, nonStrict bool, reason string) {
	c := s.close
	clean := s.sentClose && s.gotClose
	switch {
	case !s.closeSet:
		return false, false, "the case set no close expectation"
	case s.killedByMe && !c.ByMe:
		return false, false, "the peer did not fail the connection; the suite dropped it after waiting"
	case s.killedByMe:
		return false, false, "the connection was still open when the case's time ran out; the suite dropped it"
	case c.ByMe != s.closedByMe:
		if c.ByMe {
			return false, false, "the peer closed the connection where the suite should have"
		}
		return false, false, "the connection was closed by the suite where the peer should have failed it"
	case c.RequireClean && !clean:
		return false, false, "the closing handshake did not complete: close frames must go both ways before TCP ends"
	case s.remoteCode >= 0 && !slices.Contains(c.Codes, s.remoteCode):
		return false, false, fmt.Sprintf("the peer's close code was %d, should have been %s or none", s.remoteCode, codesString(c.Codes))
	case s.client && s.droppedByMe && clean && !s.killedByMe:
		return false, true, "the server left the TCP connection open after the closing handshake; the suite dropped it"
	}
	return true, false, "the connection was closed as expected"
}
