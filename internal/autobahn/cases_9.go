package autobahn

import (
	"fmt"
	"time"
)

// Section 9, limits and performance: large messages (9.1 text, 9.2
// binary, up to 16 MiB), a 4 MiB message in fragments of many sizes (9.3,
// 9.4), a 1 MiB message written in small chops (9.5, 9.6), and 1,000
// round trips of small messages one after the other (9.7, 9.8). Each must
// be echoed within a time limit; the duration of the case is the measure.

func cases9() []Case {
	type kind struct {
		name string
		op   byte
		fill string
	}
	text, binary := kind{"text", opText, "BAsd7&jh23"}, kind{"binary", opBinary, "\xfe"}
	event := func(k kind, p []byte) Event { return Event{Kind: EventMessage, Binary: k.op == opBinary, Payload: p} }
	// echo sends one message with send and expects it back within limit.
	echo := func(id, desc string, k kind, n int, limit time.Duration, send func(*Session, []byte)) Case {
		return Case{ID: id, Desc: desc, Run: func(s *Session) {
			p := repeat(k.fill, n)
			expectEcho(s, event(k, p))
			send(s, p)
			s.CloseAfter(limit)
		}}
	}
	var out []Case
	sizes := []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20}
	limits := []time.Duration{10, 10, 20, 60, 100, 200}
	for sub, k := range []kind{text, binary} {
		for i, n := range sizes {
			out = append(out, echo(fmt.Sprintf("9.%d.%d", 1+sub, i+1),
				fmt.Sprintf("Send a %s message of %s in one frame; expect it echoed.", k.name, sizeName(n)),
				k, n, limits[i]*time.Second, func(s *Session, p []byte) { s.SendMessage(k.op, p) }))
		}
	}
	frags := []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20}
	for sub, k := range []kind{text, binary} {
		for i, size := range frags {
			out = append(out, echo(fmt.Sprintf("9.%d.%d", 3+sub, i+1),
				fmt.Sprintf("Send a %s message of 4 MiB in fragments of %s; expect it echoed.", k.name, sizeName(size)),
				k, 4<<20, 100*time.Second, func(s *Session, p []byte) { s.SendFragmented(k.op, p, size) }))
		}
	}
	for sub, k := range []kind{text, binary} {
		for i, chop := range []int{64, 128, 256, 512, 1024, 2048} {
			out = append(out, echo(fmt.Sprintf("9.%d.%d", 5+sub, i+1),
				fmt.Sprintf("Send a %s message of 1 MiB in one frame written in chops of %d bytes; expect it echoed.", k.name, chop),
				k, 1<<20, 100*time.Second, func(s *Session, p []byte) { s.SendChopped(Frame{Fin: true, Opcode: k.op, Payload: p}, chop, 0) }))
		}
	}
	for sub, k := range []kind{text, binary} {
		for i, n := range []int{0, 16, 64, 256, 1024, 4096} {
			out = append(out, Case{ID: fmt.Sprintf("9.%d.%d", 7+sub, i+1),
				Desc: fmt.Sprintf("Send 1,000 %s messages of %s, each after the echo of the one before; expect every one echoed.", k.name, sizeName(n)),
				Run: func(s *Session) {
					const count = 1000
					p := repeat(k.fill, n)
					want := make([]Event, count)
					for j := range want {
						want[j] = event(k, p)
					}
					expectEcho(s, want...)
					deadline := time.Now().Add(60 * time.Second)
					for j := range count {
						s.SendMessage(k.op, p)
						if !s.WaitEvents(j+1, time.Until(deadline)) {
							break
						}
					}
					if s.Open() {
						s.CloseAfter(s.Seconds(1))
					}
				}})
		}
	}
	return out
}
