package pmdeflate

// State is the permessage-deflate state of one connection: how this end
// compresses the messages it sends and decompresses the ones it receives.
//
// One goroutine may compress (Writer, AppendCompressed, Sent) while another
// decompresses (Reader); each side must be used by one message at a time.
// Without context takeover a side holds nothing between messages; with it, it
// holds only its sliding window (2^bits bytes, allocated on the first message).
type State struct {
	level int
	out   direction // what we send
	in    direction // what we receive
}

// direction is one way of the connection.
type direction struct {
	bits     int
	takeover bool
	hist     window
}

// NewState returns the state for a connection negotiated with p, on the
// server side when isServer is set. level is the flate level (1..9; 0 means
// 1). Window bits of 0 in p mean 15.
func NewState(p Params, isServer bool, level int) *State {
	serverBits := bitsOr(p.ServerMaxWindowBits, MaxWindowBits)
	clientBits := bitsOr(p.ClientMaxWindowBits, MaxWindowBits)
	server := direction{bits: serverBits, takeover: !p.ServerNoContextTakeover}
	client := direction{bits: clientBits, takeover: !p.ClientNoContextTakeover}
	if level < 1 || level > 9 {
		level = 1
	}
	st := &State{level: level, out: client, in: server}
	if isServer {
		st.out, st.in = server, client
	}
	st.out.hist.size = 1 << st.out.bits
	st.in.hist.size = 1 << st.in.bits
	return st
}

// Variant identifies a compressed form of a message: the same message
// compressed by Compress with the same Variant gives the same bytes, which any
// connection whose State reports that Variant may send (then calling Sent).
type Variant struct {
	// Level is the flate level, 1..9.
	Level int
	// WindowBits bounds back-reference distances to 2^WindowBits bytes.
	WindowBits int
}

// Variant returns the form of prepared messages this connection can send.
func (st *State) Variant() Variant {
	return Variant{Level: st.level, WindowBits: st.out.bits}
}

// Sent records that the message p went out compressed by Compress (so
// without reference to earlier messages): under context takeover the peer's
// window now ends with p, and so must ours. Messages sent uncompressed are
// not recorded, since the peer does not inflate them.
func (st *State) Sent(p []byte) {
	if st.out.takeover {
		st.out.hist.write(p)
	}
}
