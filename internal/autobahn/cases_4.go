package autobahn

import "fmt"

// Section 4, opcodes (RFC 6455 §5.2): a frame with a reserved opcode,
// non-control (4.1: 3 to 7) or control (4.2: 11 to 15), fails the
// connection.

func cases4() []Case {
	const hello = "Hello, world!"
	var out []Case
	for sub, ops := range [][5]byte{{3, 4, 5, 6, 7}, {11, 12, 13, 14, 15}} {
		for i, op := range ops {
			var payload []byte
			if i%2 == 1 {
				payload = []byte("reserved opcode payload")
			}
			bad := Frame{Fin: true, Opcode: op, Payload: payload}
			id := fmt.Sprintf("4.%d.%d", sub+1, i+1)
			if i < 2 {
				out = append(out, Case{ID: id,
					Desc: fmt.Sprintf("Send a frame with reserved opcode %d; expect the connection failed.", op),
					Run: func(s *Session) {
						expectFail(s, 1002)
						s.SendFrame(bad)
						s.KillAfter(s.Seconds(1))
					}})
				continue
			}
			out = append(out, Case{ID: id,
				Desc: fmt.Sprintf("Send a text message, a frame with reserved opcode %d, then a ping; expect the message echoed, then the connection failed.", op),
				Run: func(s *Session) {
					expectFail(s, 1002, Text(hello))
					s.Expect(NonStrict, "the peer failed the connection before echoing the valid message sent first")
					s.SendMessage(opText, []byte(hello))
					s.SendFrame(bad)
					s.SendFrame(Frame{Fin: true, Opcode: opPing})
					s.KillAfter(s.Seconds(1))
				}})
		}
	}
	return out
}
