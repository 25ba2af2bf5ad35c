package autobahn

import (
	"bytes"
	"fmt"
	"time"
)

// Section 2, pings and pongs (RFC 6455 §5.5.2, §5.5.3): a ping is answered
// by a pong with its payload, an unsolicited pong is ignored, and a ping
// longer than 125 bytes fails the connection.

func cases2() []Case {
	ping := func(p []byte) Frame { return Frame{Fin: true, Opcode: opPing, Payload: p} }
	pongCase := func(id, desc string, p []byte, chop int) Case {
		return Case{ID: id, Desc: desc, Run: func(s *Session) {
			expectEcho(s, Event{Kind: EventPong, Payload: p})
			if chop > 0 {
				s.SendChopped(ping(p), chop, time.Millisecond)
			} else {
				s.SendFrame(ping(p))
			}
			s.KillAfter(s.Seconds(2))
		}}
	}
	tenPings := func(id, desc string, chop int) Case {
		return Case{ID: id, Desc: desc, Run: func(s *Session) {
			var want []Event
			for i := range 10 {
				want = append(want, Pong(fmt.Sprintf("payload-%d", i)))
			}
			expectEcho(s, want...)
			for i := range 10 {
				f := ping([]byte(fmt.Sprintf("payload-%d", i)))
				if chop > 0 {
					s.SendChopped(f, chop, time.Millisecond)
				} else {
					s.SendFrame(f)
				}
			}
			s.CloseAfter(s.Seconds(3))
		}}
	}
	return []Case{
		pongCase("2.1", "Send a ping without payload; expect a pong without payload.", nil, 0),
		pongCase("2.2", "Send a ping with a short text payload; expect a pong with it.", []byte("Hello, world!"), 0),
		pongCase("2.3", "Send a ping with a short binary payload; expect a pong with it.", []byte("\x00\xff\xfe\xfd\xfc\xfb\x00\xff"), 0),
		pongCase("2.4", "Send a ping with a 125-byte binary payload; expect a pong with it.", bytes.Repeat([]byte{0xfe}, 125), 0),
		{ID: "2.5", Desc: "Send a ping with a 126-byte payload, longer than a control frame may be; expect the connection failed.", Run: func(s *Session) {
			expectFail(s, 1002)
			s.SendFrame(ping(bytes.Repeat([]byte{0xfe}, 126)))
			s.KillAfter(s.Seconds(1))
		}},
		pongCase("2.6", "Send a ping with a 125-byte payload one byte at a time; expect a pong with it.", bytes.Repeat([]byte{0xfe}, 125), 1),
		{ID: "2.7", Desc: "Send an unsolicited pong without payload; expect nothing, then a clean close.", Run: func(s *Session) {
			expectEcho(s)
			s.SendFrame(Frame{Fin: true, Opcode: opPong})
			s.CloseAfter(s.Seconds(1))
		}},
		{ID: "2.8", Desc: "Send an unsolicited pong with payload; expect nothing, then a clean close.", Run: func(s *Session) {
			expectEcho(s)
			s.SendFrame(Frame{Fin: true, Opcode: opPong, Payload: []byte("unsolicited pong payload")})
			s.CloseAfter(s.Seconds(1))
		}},
		{ID: "2.9", Desc: "Send an unsolicited pong, then a ping; expect a pong for the ping only.", Run: func(s *Session) {
			expectEcho(s, Pong("ping payload"))
			s.SendFrame(Frame{Fin: true, Opcode: opPong, Payload: []byte("unsolicited pong payload")})
			s.SendFrame(ping([]byte("ping payload")))
			s.KillAfter(s.Seconds(1))
		}},
		tenPings("2.10", "Send 10 pings with payloads; expect 10 pongs with them, in order.", 0),
		tenPings("2.11", "Send 10 pings with payloads, one byte at a time; expect 10 pongs with them, in order.", 1),
	}
}
