package autobahn

import (
	"bytes"
	"fmt"
	"slices"
)

// Sections are the numbers of the sections Cases knows, in order.
var Sections = []int{1, 2, 3, 4, 5, 6, 7, 9, 10}

// Cases returns the cases of the given sections in Autobahn's order; no
// section means all of Sections. Section 9 (messages up to 16 MiB) takes
// most of the time of a run. Sections 12 and 13 (permessage-deflate) run
// only when asked for by number, as Autobahn's default configuration
// excludes them.
func Cases(sections ...int) []Case {
	if len(sections) == 0 {
		sections = Sections
	}
	var out []Case
	for _, n := range append(slices.Clone(Sections), 12, 13) {
		if !slices.Contains(sections, n) {
			continue
		}
		switch n {
		case 1:
			out = append(out, cases1()...)
		case 2:
			out = append(out, cases2()...)
		case 3:
			out = append(out, cases3()...)
		case 4:
			out = append(out, cases4()...)
		case 5:
			out = append(out, cases5()...)
		case 6:
			out = append(out, cases6()...)
		case 7:
			out = append(out, cases7()...)
		case 9:
			out = append(out, cases9()...)
		case 10:
			out = append(out, cases10()...)
		case 12:
			out = append(out, cases12()...)
		case 13:
			out = append(out, cases13()...)
		}
	}
	return out
}

// expectEcho makes the case expect events and then close the connection
// itself with 1000, cleanly: the shape of every case a conforming peer
// passes by echoing.
func expectEcho(s *Session, events ...Event) {
	s.Expect(OK, "", events...)
	s.ExpectClose(CloseExpectation{ByMe: true, Codes: []int{1000}, RequireClean: true})
}

// expectFail makes the case expect the peer to fail the connection, with
// code in its close frame if it sends one, after the events given.
func expectFail(s *Session, code int, events ...Event) {
	s.Expect(OK, "", events...)
	s.ExpectClose(CloseExpectation{Codes: []int{code}})
}

// repeat is p repeated up to n bytes, as Autobahn fills long payloads.
func repeat(p string, n int) []byte {
	return bytes.Repeat([]byte(p), n/len(p)+1)[:n]
}

// sizeName writes n bytes the way case descriptions do.
func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func itoa(n int) string { return fmt.Sprint(n) }
