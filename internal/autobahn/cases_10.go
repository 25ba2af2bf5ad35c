package autobahn

// Section 10, miscellaneous: 10.1.1 sends a 64 KiB text message in
// fragments of 1,300 bytes, as an endpoint that fragments on its own
// would, and expects it echoed.

func cases10() []Case {
	return []Case{{ID: "10.1.1", Desc: "Send a text message of 64 KiB in fragments of 1,300 bytes; expect it echoed.", Run: func(s *Session) {
		p := repeat("*", 65536)
		expectEcho(s, TextBytes(p))
		s.SendFragmented(opText, p, 1300)
		s.KillAfter(s.Seconds(10))
	}}}
}
