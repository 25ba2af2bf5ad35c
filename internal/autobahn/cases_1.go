package autobahn

import "fmt"

// Section 1, framing: text (1.1) and binary (1.2) messages whose payloads
// straddle the three length encodings of RFC 6455 §5.2, echoed back; the
// eighth case of each writes the frame in chops of 997 bytes.

func cases1() []Case {
	var out []Case
	for sub, kind := range []struct {
		name string
		op   byte
		fill string
	}{{"text", opText, "*"}, {"binary", opBinary, "\xfe"}} {
		for i, n := range []int{0, 125, 126, 127, 128, 65535, 65536, 65536} {
			chopped := i == 7
			desc := fmt.Sprintf("Send a %s message of %d bytes", kind.name, n)
			if chopped {
				desc += ", its frame written in chops of 997 bytes"
			}
			out = append(out, Case{
				ID:   fmt.Sprintf("1.%d.%d", sub+1, i+1),
				Desc: desc + "; expect it echoed.",
				Run: func(s *Session) {
					p := repeat(kind.fill, n)
					e := Event{Kind: EventMessage, Binary: kind.op == opBinary, Payload: p}
					expectEcho(s, e)
					f := Frame{Fin: true, Opcode: kind.op, Payload: p}
					if chopped {
						s.SendChopped(f, 997, 0)
					} else {
						s.SendFrame(f)
					}
					s.KillAfter(s.Seconds(10))
				},
			})
		}
	}
	return out
}
