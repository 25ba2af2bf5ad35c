package autobahn

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Section 6, UTF-8 (RFC 6455 §8.1): a text message must be valid UTF-8;
// an invalid one fails the connection with 1007, and an endpoint should
// fail it at the first byte that makes the text invalid, not at the end
// of the message (6.4). Sections 6.5 to 6.23 are the sequences of Markus
// Kuhn's UTF-8 decoder test, valid and invalid, each one message.

const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5" // κόσμε

// utf8Group is one group of the decoder test: sequences that become the
// cases 6.N.1, 6.N.2, ...; each is valid exactly when utf8.Valid says so.
type utf8Group struct {
	title string
	seqs  []string
}

// utf8Groups returns the groups of sections 6.5 to 6.23, in order.
func utf8Groups() []utf8Group {
	var prefixes []string
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, kosme[:i])
	}
	var continuations strings.Builder
	for c := 0x80; c < 0xbf; c++ {
		continuations.WriteByte(byte(c))
	}
	var lonely []string
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		var b strings.Builder
		for c := r[0]; c < r[1]; c++ {
			b.WriteByte(byte(c))
			b.WriteByte(' ')
		}
		lonely = append(lonely, b.String())
	}
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	nonchars := []string{"\xef\xbf\xbe", "\xef\xbf\xbf"}
	for _, lead := range []string{"\xf0", "\xf1", "\xf2", "\xf3", "\xf4"} {
		for _, second := range []string{"\x8f", "\x9f", "\xaf", "\xbf"} {
			if lead == "\xf4" && second != "\x8f" {
				continue // above U+10FFFF
			}
			for _, last := range []string{"\xbe", "\xbf"} {
				if lead == "\xf0" && second == "\x8f" {
					continue // overlong
				}
				nonchars = append(nonchars, lead+second+"\xbf"+last)
			}
		}
	}
	return []utf8Group{
		{"Some valid UTF-8 sequences", []string{"hello\x24world", "hello\xc2\xa2world", "hello\xe2\x82\xacworld", "hello\xf0\xa4\xad\xa2world", kosme}},
		{"All prefixes of a valid UTF-8 string that contains multi-byte code points", prefixes},
		{"First possible sequence of a certain length", []string{"\x00", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80"}},
		{"First possible sequence length 5/6 (invalid code points)", []string{"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80"}},
		{"Last possible sequence of a certain length", []string{"\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"}},
		{"Last possible sequence length 4/5/6 (invalid code points)", []string{"\xf7\xbf\xbf\xbf", "\xfb\xbf\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf\xbf"}},
		{"Other boundary conditions", []string{"\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80"}},
		{"Unexpected continuation bytes", []string{"\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80", "\x80\xbf\x80\xbf", "\x80\xbf\x80\xbf\x80", "\x80\xbf\x80\xbf\x80\xbf", continuations.String()}},
		{"Lonely start characters", lonely},
		{"Sequences with last continuation byte missing", missing},
		{"Concatenation of incomplete sequences", []string{strings.Join(missing, "")}},
		{"Impossible bytes", []string{"\xfe", "\xff", "\xfe\xfe\xff\xff"}},
		{"Examples of an overlong ASCII character", []string{"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf8\x80\x80\x80\xaf", "\xfc\x80\x80\x80\x80\xaf"}},
		{"Maximum overlong sequences", []string{"\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf8\x87\xbf\xbf\xbf", "\xfc\x83\xbf\xbf\xbf\xbf"}},
		{"Overlong representation of the NUL character", []string{"\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xf8\x80\x80\x80\x80", "\xfc\x80\x80\x80\x80\x80"}},
		{"Single UTF-16 surrogates", []string{"\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf"}},
		{"Paired UTF-16 surrogates", []string{"\xed\xa0\x80\xed\xb0\x80", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xad\xbf\xed\xb0\x80", "\xed\xad\xbf\xed\xbf\xbf",
			"\xed\xae\x80\xed\xb0\x80", "\xed\xae\x80\xed\xbf\xbf", "\xed\xaf\xbf\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf"}},
		{"Non-character code points (valid UTF-8)", nonchars},
		{"Unicode specials (i.e. replacement char)", []string{"\xef\xbf\xb9", "\xef\xbf\xba", "\xef\xbf\xbb", "\xef\xbf\xbc", "\xef\xbf\xbd", "\xef\xbf\xbe", "\xef\xbf\xbf"}},
	}
}

// textCase sends p as one text message: a valid one must be echoed, an
// invalid one must fail the connection with 1007.
func textCase(id, desc string, p string, send func(*Session, []byte)) Case {
	valid := utf8.ValidString(p)
	if valid {
		desc += "; it is valid UTF-8: expect it echoed."
	} else {
		desc += "; it is not valid UTF-8: expect the connection failed with 1007."
	}
	return Case{ID: id, Desc: desc, Run: func(s *Session) {
		if valid {
			expectEcho(s, Text(p))
		} else {
			expectFail(s, 1007)
		}
		send(s, []byte(p))
		s.KillAfter(s.Seconds(1))
	}}
}

func oneFrame(s *Session, p []byte) { s.SendMessage(opText, p) }

// byteFrames sends p as a text message of one-byte fragments.
func byteFrames(s *Session, p []byte) { s.SendFragmented(opText, p, 1) }

func cases6() []Case {
	const mixed = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"
	const invalid = kosme + "\xed\xa0\x80" + "edited"
	frag := func(op byte, fin bool, p string) Frame { return Frame{Fin: fin, Opcode: op, Payload: []byte(p)} }
	out := []Case{
		{ID: "6.1.1", Desc: "Send a text message with an empty payload; expect it echoed.", Run: func(s *Session) {
			expectEcho(s, Text(""))
			s.SendMessage(opText, nil)
			s.KillAfter(s.Seconds(1))
		}},
		{ID: "6.1.2", Desc: "Send a text message in 3 empty fragments; expect an empty text message echoed.", Run: func(s *Session) {
			expectEcho(s, Text(""))
			s.SendFrame(frag(opText, false, ""))
			s.SendFrame(frag(opContinuation, false, ""))
			s.SendFrame(frag(opContinuation, true, ""))
			s.KillAfter(s.Seconds(1))
		}},
		{ID: "6.1.3", Desc: "Send a text message in 3 fragments, the first and last empty; expect it echoed.", Run: func(s *Session) {
			expectEcho(s, Text("middle frame payload"))
			s.SendFrame(frag(opText, false, ""))
			s.SendFrame(frag(opContinuation, false, "middle frame payload"))
			s.SendFrame(frag(opContinuation, true, ""))
			s.KillAfter(s.Seconds(1))
		}},
		textCase("6.2.1", "Send a text message of 2-byte sequences in one frame", mixed, oneFrame),
		textCase("6.2.2", "Send a text message of 2-byte sequences in 2 fragments cut between code points", mixed, func(s *Session, p []byte) {
			s.SendFrame(Frame{Opcode: opText, Payload: p[:12]})
			s.SendFrame(Frame{Fin: true, Opcode: opContinuation, Payload: p[12:]})
		}),
		textCase("6.2.3", "Send a text message of 2-byte sequences in one-byte fragments", mixed, byteFrames),
		textCase("6.2.4", "Send a text message of 2- and 3-byte sequences in one-byte fragments", kosme, byteFrames),
		textCase("6.3.1", "Send a text message with a surrogate in one frame", invalid, oneFrame),
		textCase("6.3.2", "Send a text message with a surrogate in one-byte fragments", invalid, byteFrames),
	}
	out = append(out, failFastCases()...)
	for gi, g := range utf8Groups() {
		for si, p := range g.seqs {
			id := fmt.Sprintf("6.%d.%d", gi+5, si+1)
			out = append(out, textCase(id, fmt.Sprintf("%s: send the text message %x in one frame", g.title, p), p, oneFrame))
		}
	}
	return out
}

// failFastCases are 6.4.1 to 6.4.4: a text message in three pieces, the
// second making it invalid. The peer must fail the connection after the
// second piece; failing after the third only is NON-STRICT.
func failFastCases() []Case {
	const part1, part2, part3 = kosme, "\xf4\x90\x80\x80", "edited" // part2 would be U+110000
	whole := part1 + part2 + part3
	// Pieces as 6.4.1 (split around part2) and 6.4.2 (part2 cut after the
	// byte that makes the text invalid, 0x90).
	around := [3]string{part1, part2, part3}
	atByte := [3]string{whole[:12], whole[12:13], whole[13:]}
	const nonStrict = "the peer failed the connection only at the end of the message, not at the first invalid byte"
	// play sends the three pieces with a wait before the second and the
	// third, marking each wait that passes with the connection open.
	play := func(s *Session, send func(piece int, then func() bool)) {
		s.Expect(OK, "", Timeout("A"))
		s.Expect(NonStrict, nonStrict, Timeout("A"), Timeout("B"))
		s.ExpectClose(CloseExpectation{Codes: []int{1007}})
		waits := []string{"A", "B"}
		send(0, func() bool {
			tag := waits[0]
			waits = waits[1:]
			if !s.Pause(s.Seconds(1)) {
				return false
			}
			s.Record(Timeout(tag))
			return true
		})
		if s.Open() {
			s.KillAfter(s.Seconds(1))
		}
	}
	inFrames := func(pieces [3]string) func(*Session) {
		return func(s *Session) {
			play(s, func(_ int, then func() bool) {
				s.SendFrame(Frame{Opcode: opText, Payload: []byte(pieces[0])})
				if !then() {
					return
				}
				s.SendFrame(Frame{Opcode: opContinuation, Payload: []byte(pieces[1])})
				if !then() {
					return
				}
				s.SendFrame(Frame{Fin: true, Opcode: opContinuation, Payload: []byte(pieces[2])})
			})
		}
	}
	inChops := func(pieces [3]string) func(*Session) {
		return func(s *Session) {
			play(s, func(_ int, then func() bool) {
				cut1 := len(pieces[0])
				s.SendFrameParts(Frame{Fin: true, Opcode: opText, Payload: []byte(whole)},
					[]int{cut1, cut1 + len(pieces[1])}, func(int) bool { return then() })
			})
		}
	}
	const how = "Send an invalid text message in 3 %s, waiting a second before the second and the third; the second %s; expect the connection failed with 1007 before the third."
	return []Case{
		{ID: "6.4.1", Desc: fmt.Sprintf(how, "frames", "holds the sequence of the code point U+110000"), Run: inFrames(around)},
		{ID: "6.4.2", Desc: fmt.Sprintf(how, "frames", "is the single byte that makes the text invalid"), Run: inFrames(atByte)},
		{ID: "6.4.3", Desc: fmt.Sprintf(how, "chops of one frame", "holds the sequence of the code point U+110000"), Run: inChops(around)},
		{ID: "6.4.4", Desc: fmt.Sprintf(how, "chops of one frame", "is the single byte that makes the text invalid"), Run: inChops(atByte)},
	}
}
