package autobahn

import "time"

// Section 3, reserved bits (RFC 6455 §5.2): with no extension negotiated,
// a frame with any RSV bit set fails the connection, whatever came before
// it was still handled.

func cases3() []Case {
	const hello = "Hello, world!"
	text := func(rsv byte) Frame { return Frame{Fin: true, RSV: rsv, Opcode: opText, Payload: []byte(hello)} }
	// afterEcho sends a good message, a bad one and a ping: the good one
	// must be echoed, then the connection failed before the ping is
	// answered. A peer that fails before echoing is NON-STRICT.
	afterEcho := func(id, desc string, rsv byte, send func(*Session, Frame)) Case {
		return Case{ID: id, Desc: desc, Run: func(s *Session) {
			expectFail(s, 1002, Text(hello))
			s.Expect(NonStrict, "the peer failed the connection before echoing the valid message sent first")
			send(s, text(0))
			send(s, text(rsv))
			send(s, Frame{Fin: true, Opcode: opPing})
			s.KillAfter(s.Seconds(1))
		}}
	}
	failOn := func(id, desc string, f Frame) Case {
		return Case{ID: id, Desc: desc, Run: func(s *Session) {
			expectFail(s, 1002)
			s.SendFrame(f)
			s.KillAfter(s.Seconds(1))
		}}
	}
	plain := func(s *Session, f Frame) { s.SendFrame(f) }
	sync := func(s *Session, f Frame) { s.SendFrame(f); time.Sleep(time.Millisecond) }
	octets := func(s *Session, f Frame) { s.SendChopped(f, 1, time.Millisecond) }
	return []Case{
		failOn("3.1", "Send a text message with RSV = 1; expect the connection failed.", text(rsv3)),
		afterEcho("3.2", "Send a text message, then one with RSV = 2, then a ping; expect the first echoed, then the connection failed.", rsv2, plain),
		afterEcho("3.3", "As 3.2 with RSV = 3, each frame written on its own.", rsv2|rsv3, sync),
		afterEcho("3.4", "As 3.2 with RSV = 4, each frame written one byte at a time.", rsv1, octets),
		failOn("3.5", "Send a binary message with RSV = 5; expect the connection failed.",
			Frame{Fin: true, RSV: rsv1 | rsv3, Opcode: opBinary, Payload: []byte("\x00\xff\xfe\xfd\xfc\xfb\x00\xff")}),
		failOn("3.6", "Send a ping with RSV = 6; expect the connection failed.",
			Frame{Fin: true, RSV: rsv1 | rsv2, Opcode: opPing, Payload: []byte(hello)}),
		failOn("3.7", "Send a close frame with RSV = 7; expect the connection failed.",
			Frame{Fin: true, RSV: rsv1 | rsv2 | rsv3, Opcode: opClose, Payload: closePayload(1000, nil)}),
	}
}
