package pmdeflate

// Negotiate is the server side of RFC 7692 §7.1: it picks the first
// permessage-deflate offer in values (all Sec-WebSocket-Extensions header
// values of the request) that it can accept and returns the negotiated
// parameters and the response header value. ok is false when no offer is
// acceptable, the header is malformed or cfg asks for invalid window bits; the connection then
// goes on without compression. The package documentation lists the rules.
func Negotiate(values []string, cfg Params) (p Params, response string, ok bool) {
	if !cfg.valid() {
		return Params{}, "", false
	}
	exts, err := ParseExtensions(values)
	if err != nil {
		return Params{}, "", false
	}
	for _, ext := range exts {
		if ext.Name != ExtensionName {
			continue
		}
		offer, err := parseWireParams(ext.Params)
		if err != nil {
			continue
		}
		p, resp := answer(offer, cfg)
		return p, resp.format(false), true
	}
	return Params{}, "", false
}

// answeredBits is the largest window a server answers for a direction
// configured with bits: those when set, else TakeoverWindowBits when the
// direction keeps its context (its window is then memory held between
// messages), else 15.
func answeredBits(bits int, noTakeover bool) int {
	switch {
	case bits != 0:
		return bits
	case noTakeover:
		return MaxWindowBits
	}
	return TakeoverWindowBits
}

// answer builds the response to an acceptable offer.
func answer(offer wireParams, cfg Params) (Params, wireParams) {
	resp := wireParams{
		// RFC 7692 §7.1.1.1: the server must echo server_no_context_takeover
		// and may add it on its own.
		serverNoContextTakeover: offer.serverNoContextTakeover || cfg.ServerNoContextTakeover,
		// §7.1.1.2: the server may always send client_no_context_takeover;
		// echoing the client's hint spares keeping the client's window.
		clientNoContextTakeover: offer.clientNoContextTakeover || cfg.ClientNoContextTakeover,
	}
	// §7.1.2.1: an offered server_max_window_bits must be answered with the
	// same or a smaller value; the server may also send it unasked.
	serverBits := MaxWindowBits
	if offer.serverMaxWindowBits != 0 {
		serverBits = offer.serverMaxWindowBits
		resp.serverMaxWindowBits = serverBits
	}
	if want := answeredBits(cfg.ServerMaxWindowBits, resp.serverNoContextTakeover); want < serverBits {
		serverBits = want
		resp.serverMaxWindowBits = serverBits
	}
	// §7.1.2.2: client_max_window_bits may be answered only when offered,
	// and then always with a value, no larger than an offered one.
	clientBits := MaxWindowBits
	if offer.clientMaxWindowBitsSeen {
		if offer.clientMaxWindowBits != 0 {
			clientBits = offer.clientMaxWindowBits
			resp.clientMaxWindowBits = clientBits
		}
		if want := answeredBits(cfg.ClientMaxWindowBits, resp.clientNoContextTakeover); want < clientBits {
			clientBits = want
			resp.clientMaxWindowBits = clientBits
		}
	}
	return Params{
		ServerNoContextTakeover: resp.serverNoContextTakeover,
		ClientNoContextTakeover: resp.clientNoContextTakeover,
		ServerMaxWindowBits:     serverBits,
		ClientMaxWindowBits:     clientBits,
	}, resp
}

// Accept negotiates as Negotiate does and returns the server's State of the
// connection, nil when no offer was accepted, and the
// Sec-WebSocket-Extensions answer, "" then. level is the flate level.
func Accept(values []string, cfg Params, level int) (*State, string) {
	p, answer, ok := Negotiate(values, cfg)
	if !ok {
		return nil, ""
	}
	return NewState(p, true, level), answer
}
