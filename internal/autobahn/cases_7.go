package autobahn

import (
	"fmt"
	"strings"
)

// Section 7, the closing handshake (RFC 6455 §5.5.1, §7): after a close
// frame nothing more is sent or processed; a close payload is empty or a
// valid code with a UTF-8 reason, at most 125 bytes; the peer answers a
// close with one of its own, echoing the code or with 1000, and a close
// with a code that may not be sent fails the connection with 1002.

func cases7() []Case {
	const hello = "Hello World!"
	// closeCase sends a close frame with code and reason (code < 0: empty
	// payload) and expects the peer to answer with one of codes.
	closeCase := func(id, desc string, code int, reason string, codes []int, clean bool) Case {
		return Case{ID: id, Desc: desc, Run: func(s *Session) {
			s.Expect(OK, "")
			s.ExpectClose(CloseExpectation{ByMe: true, Codes: codes, RequireClean: clean})
			s.SendClose(code, []byte(reason))
			s.KillAfter(s.Seconds(1))
		}}
	}
	out := []Case{
		{ID: "7.1.1", Desc: "Send a text message, and once it is echoed, a close; expect a clean close.", Run: func(s *Session) {
			expectEcho(s, Text(hello))
			s.SendMessage(opText, []byte(hello))
			s.KillAfter(s.Seconds(1))
		}},
		{ID: "7.1.2", Desc: "Send two close frames; expect the second ignored and a clean close.", Run: func(s *Session) {
			expectEcho(s)
			s.SendClose(1000, nil)
			s.SendClose(1000, nil)
			s.KillAfter(s.Seconds(1))
		}},
		{ID: "7.1.3", Desc: "Send a close, then a ping; expect no pong and a clean close.", Run: func(s *Session) {
			expectEcho(s)
			s.SendClose(1000, nil)
			s.SendFrame(Frame{Fin: true, Opcode: opPing, Payload: []byte(hello)})
			s.KillAfter(s.Seconds(1))
		}},
		{ID: "7.1.4", Desc: "Send a close, then a text message; expect no echo and a clean close.", Run: func(s *Session) {
			expectEcho(s)
			s.SendClose(1000, nil)
			s.SendMessage(opText, []byte(hello))
			s.KillAfter(s.Seconds(1))
		}},
		{ID: "7.1.5", Desc: "Send the first fragment of a text message, a close, then the last fragment; expect no echo and a clean close.", Run: func(s *Session) {
			expectEcho(s)
			s.SendFrame(Frame{Opcode: opText, Payload: []byte("fragment1")})
			s.SendClose(1000, nil)
			s.SendFrame(Frame{Fin: true, Opcode: opContinuation, Payload: []byte("fragment2")})
			s.KillAfter(s.Seconds(1))
		}},
		{ID: "7.1.6", Desc: "Send a 256 KiB text message, a short one, a close and a ping back to back; which of the messages come back before the close is the peer's choice.", Run: func(s *Session) {
			big := repeat("BAsd7&jh23", 256<<10)
			expectEcho(s, TextBytes(big), Text(hello))
			s.OnEnd(func(j *Judgement) {
				if j.Behavior == OK {
					j.Reason = "both messages were echoed before the peer closed"
				} else {
					j.Reason = fmt.Sprintf("the close was handled before both messages were echoed: %s", eventsString(s.received))
				}
				j.Behavior = Informational
			})
			s.SendMessage(opText, big)
			s.SendMessage(opText, []byte(hello))
			s.SendClose(1000, nil)
			s.SendFrame(Frame{Fin: true, Opcode: opPing})
			s.KillAfter(s.Seconds(1))
		}},
		closeCase("7.3.1", "Send a close with an empty payload; expect a clean close.", -1, "", []int{1000}, true),
		{ID: "7.3.2", Desc: "Send a close with a 1-byte payload; expect the connection failed with 1002.", Run: func(s *Session) {
			s.Expect(OK, "")
			s.ExpectClose(CloseExpectation{ByMe: true, Codes: []int{1002}})
			s.SendFrame(Frame{Fin: true, Opcode: opClose, Payload: []byte("a")})
			s.KillAfter(s.Seconds(1))
		}},
		closeCase("7.3.3", "Send a close with code 1000 and no reason; expect a clean close.", 1000, "", []int{1000}, true),
		closeCase("7.3.4", "Send a close with code 1000 and a short reason; expect a clean close.", 1000, hello, []int{1000}, true),
		closeCase("7.3.5", "Send a close with code 1000 and a 123-byte reason, the longest there is room for; expect a clean close.", 1000, strings.Repeat("*", 123), []int{1000}, true),
		closeCase("7.3.6", "Send a close with code 1000 and a 124-byte reason, a control frame too long; expect the connection failed with 1002.", 1000, strings.Repeat("*", 124), []int{1002}, false),
		closeCase("7.5.1", "Send a close with code 1000 and a reason that is not valid UTF-8; expect the connection failed with 1002 or 1007.", 1000, kosme+"\xed\xa0\x80edited", []int{1002, 1007}, false),
	}
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		out = append(out, closeCase(fmt.Sprintf("7.7.%d", i+1),
			fmt.Sprintf("Send a close with the valid code %d; expect a clean close with 1000 or %d.", code, code), code, "", []int{1000, code}, true))
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		out = append(out, closeCase(fmt.Sprintf("7.9.%d", i+1),
			fmt.Sprintf("Send a close with code %d, which may not be sent; expect the connection failed with 1002.", code), code, "", []int{1002}, false))
	}
	for i, code := range []int{5000, 65535} {
		out = append(out, Case{ID: fmt.Sprintf("7.13.%d", i+1),
			Desc: fmt.Sprintf("Send a close with code %d, outside the ranges RFC 6455 defines; what follows is the peer's choice.", code),
			Run: func(s *Session) {
				s.Expect(OK, "")
				s.ExpectClose(CloseExpectation{ByMe: true, Codes: []int{1000, code, 1002}})
				s.OnEnd(func(j *Judgement) {
					j.Behavior = Informational
					j.Reason = "the spec leaves this open; " + describeEnd(s)
				})
				s.SendClose(code, nil)
				s.KillAfter(s.Seconds(1))
			}})
	}
	return out
}

// describeEnd says how the peer ended the connection; the session's lock
// is held, as in a Judgement hook.
func describeEnd(s *Session) string {
	switch {
	case s.gotClose && s.remoteCode >= 0:
		return fmt.Sprintf("the peer answered with close code %d", s.remoteCode)
	case s.gotClose:
		return "the peer answered with a close frame without a code"
	}
	return "the peer dropped the connection without a close frame"
}
