package autobahn

import "time"

// Section 5, fragmentation (RFC 6455 §5.4): control frames are never
// fragmented, continuation frames only continue a message, a new message
// cannot start inside another, and control frames may come between the
// fragments of a message and are answered at once.

// sendMode is how a case writes its frames: together, each on its own
// ("frame-wise chops"), or one byte at a time ("octet-wise chops").
type sendMode int

const (
	sendPlain sendMode = iota
	sendFrames
	sendOctets
)

func (m sendMode) send(s *Session, f Frame) {
	switch m {
	case sendFrames:
		s.SendFrame(f)
		time.Sleep(time.Millisecond)
	case sendOctets:
		s.SendChopped(f, 1, 0)
	default:
		s.SendFrame(f)
	}
}

func (m sendMode) String() string {
	switch m {
	case sendFrames:
		return ", each frame written on its own"
	case sendOctets:
		return ", written one byte at a time"
	}
	return ""
}

func cases5() []Case {
	frag := func(op byte, fin bool, p string) Frame { return Frame{Fin: fin, Opcode: op, Payload: []byte(p)} }
	failCase := func(id, desc string, m sendMode, frames ...Frame) Case {
		return Case{ID: id, Desc: desc + m.String() + "; expect the connection failed.", Run: func(s *Session) {
			expectFail(s, 1002)
			for _, f := range frames {
				m.send(s, f)
			}
			s.KillAfter(s.Seconds(1))
		}}
	}
	var out []Case
	out = append(out,
		failCase("5.1", "Send a ping in 2 fragments", sendPlain, frag(opPing, false, "fragment1"), frag(opContinuation, true, "fragment2")),
		failCase("5.2", "Send a pong in 2 fragments", sendPlain, frag(opPong, false, "fragment1"), frag(opContinuation, true, "fragment2")),
	)
	for i, m := range []sendMode{sendPlain, sendFrames, sendOctets} {
		out = append(out, Case{ID: "5." + itoa(3+i), Desc: "Send a text message in 2 fragments" + m.String() + "; expect it echoed.", Run: func(s *Session) {
			expectEcho(s, Text("fragment1fragment2"))
			m.send(s, frag(opText, false, "fragment1"))
			m.send(s, frag(opContinuation, true, "fragment2"))
			s.KillAfter(s.Seconds(1))
		}})
	}
	for i, m := range []sendMode{sendPlain, sendFrames, sendOctets} {
		out = append(out, Case{ID: "5." + itoa(6+i), Desc: "Send a text message in 2 fragments with a ping between them" + m.String() + "; expect the pong, then the message echoed.", Run: func(s *Session) {
			expectEcho(s, Pong("ping payload"), Text("fragment1fragment2"))
			m.send(s, frag(opText, false, "fragment1"))
			m.send(s, frag(opPing, true, "ping payload"))
			m.send(s, frag(opContinuation, true, "fragment2"))
			s.KillAfter(s.Seconds(1))
		}})
	}
	for i, m := range []sendMode{sendPlain, sendFrames, sendOctets} {
		out = append(out, failCase("5."+itoa(9+i), "Send a continuation frame with FIN set and nothing to continue, then a text message", m,
			frag(opContinuation, true, "non-continuation payload"), frag(opText, true, "Hello, world!")))
	}
	for i, m := range []sendMode{sendPlain, sendFrames, sendOctets} {
		out = append(out, failCase("5."+itoa(12+i), "Send a continuation frame without FIN and nothing to continue, then a text message", m,
			frag(opContinuation, false, "non-continuation payload"), frag(opText, true, "Hello, world!")))
	}
	out = append(out,
		Case{ID: "5.15", Desc: "Send a text message in 2 fragments, then a continuation frame without FIN with nothing to continue, then a text message; expect the first echoed, then the connection failed.", Run: func(s *Session) {
			expectFail(s, 1002, Text("fragment1fragment2"))
			s.Expect(NonStrict, "the peer failed the connection before echoing the valid message sent first")
			s.SendFrame(frag(opText, false, "fragment1"))
			s.SendFrame(frag(opContinuation, true, "fragment2"))
			s.SendFrame(frag(opContinuation, false, "fragment3"))
			s.SendFrame(frag(opText, true, "fragment4"))
			s.KillAfter(s.Seconds(1))
		}},
		failCase("5.16", "Twice: a continuation frame without FIN with nothing to continue, then a text message in 2 fragments", sendPlain,
			frag(opContinuation, false, "fragment1"), frag(opText, false, "fragment2"), frag(opContinuation, true, "fragment3"),
			frag(opContinuation, false, "fragment1"), frag(opText, false, "fragment2"), frag(opContinuation, true, "fragment3")),
		failCase("5.17", "Twice: a continuation frame with FIN with nothing to continue, then a text message in 2 fragments", sendPlain,
			frag(opContinuation, true, "fragment1"), frag(opText, false, "fragment2"), frag(opContinuation, true, "fragment3"),
			frag(opContinuation, true, "fragment1"), frag(opText, false, "fragment2"), frag(opContinuation, true, "fragment3")),
		failCase("5.18", "Send a text message in 2 fragments that both have the text opcode", sendPlain,
			frag(opText, false, "fragment1"), frag(opText, true, "fragment2")),
	)
	for i, m := range []sendMode{sendPlain, sendFrames} {
		out = append(out, Case{ID: "5." + itoa(19+i),
			Desc: "Send a text message in 5 fragments with a ping after the second and after the fourth, waiting a second after the first ping" + m.String() + "; expect the first pong before the rest is sent, then the second, then the message echoed.",
			Run: func(s *Session) {
				expectEcho(s, Pong("pongme 1!"), Pong("pongme 2!"), Text("fragment1fragment2fragment3fragment4fragment5"))
				m.send(s, frag(opText, false, "fragment1"))
				m.send(s, frag(opContinuation, false, "fragment2"))
				m.send(s, frag(opPing, true, "pongme 1!"))
				if !s.Pause(s.Seconds(1)) {
					return
				}
				m.send(s, frag(opContinuation, false, "fragment3"))
				m.send(s, frag(opContinuation, false, "fragment4"))
				m.send(s, frag(opPing, true, "pongme 2!"))
				m.send(s, frag(opContinuation, true, "fragment5"))
				s.CloseAfter(s.Seconds(1))
			}})
	}
	return out
}
