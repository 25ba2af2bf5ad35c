package pmdeflate

import (
	"errors"
	"testing"
)

func TestOffer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  Params
		want string
	}{
		{Params{}, "permessage-deflate; client_max_window_bits"},
		{Params{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits=10"},
		{Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 8},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8"},
	}
	for _, tt := range tests {
		if got := Offer(tt.cfg); got != tt.want {
			t.Errorf("Offer(%+v) = %q, want %q", tt.cfg, got, tt.want)
		}
		// Our own server accepts every offer we make, with what it asked
		// for, or its 4 KiB default under context takeover if smaller.
		p, _, ok := Negotiate([]string{Offer(tt.cfg)}, Params{})
		if !ok {
			t.Errorf("Negotiate declined our offer %q", Offer(tt.cfg))
		}
		wantBits := bitsOr(tt.cfg.ServerMaxWindowBits, 15)
		if !tt.cfg.ServerNoContextTakeover {
			wantBits = min(wantBits, TakeoverWindowBits)
		}
		if p.ServerNoContextTakeover != tt.cfg.ServerNoContextTakeover || p.ServerMaxWindowBits != wantBits {
			t.Errorf("Negotiate(%q) = %+v", Offer(tt.cfg), p)
		}
	}
}

func TestParseAnswer(t *testing.T) {
	t.Parallel()
	full := Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
	tests := []struct {
		name   string
		answer []string
		cfg    Params
		want   Params
		ok     bool
		err    bool
	}{
		{"no extension", nil, Params{}, Params{}, false, false},
		{"plain", []string{"permessage-deflate"}, Params{}, full, true, false},
		{"server no takeover unasked", []string{"permessage-deflate; server_no_context_takeover"}, Params{},
			Params{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, true, false},
		{"client no takeover", []string{"permessage-deflate; client_no_context_takeover"}, Params{},
			Params{ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, true, false},
		{"client no takeover from config", []string{"permessage-deflate"}, Params{ClientNoContextTakeover: true},
			Params{ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, true, false},
		{"server bits unasked", []string{"permessage-deflate; server_max_window_bits=10"}, Params{},
			Params{ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}, true, false},
		{"server bits smaller than asked", []string{"permessage-deflate; server_max_window_bits=9"}, Params{ServerMaxWindowBits: 10},
			Params{ServerMaxWindowBits: 9, ClientMaxWindowBits: 15}, true, false},
		{"client bits", []string{"permessage-deflate; client_max_window_bits=11"}, Params{},
			Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 11}, true, false},
		{"client bits from config kept", []string{"permessage-deflate"}, Params{ClientMaxWindowBits: 12},
			Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 12}, true, false},
		{"quoted", []string{`permessage-deflate; client_max_window_bits="11"`}, Params{},
			Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 11}, true, false},
		{"server bits above asked", []string{"permessage-deflate; server_max_window_bits=11"}, Params{ServerMaxWindowBits: 10}, Params{}, false, true},
		{"server bits not granted", []string{"permessage-deflate"}, Params{ServerMaxWindowBits: 10}, Params{}, false, true},
		{"server no takeover not granted", []string{"permessage-deflate"}, Params{ServerNoContextTakeover: true}, Params{}, false, true},
		{"client bits above offered", []string{"permessage-deflate; client_max_window_bits=12"}, Params{ClientMaxWindowBits: 10}, Params{}, false, true},
		{"client bits without value", []string{"permessage-deflate; client_max_window_bits"}, Params{}, Params{}, false, true},
		{"server bits without value", []string{"permessage-deflate; server_max_window_bits"}, Params{}, Params{}, false, true},
		{"bits out of range", []string{"permessage-deflate; server_max_window_bits=16"}, Params{}, Params{}, false, true},
		{"unknown param", []string{"permessage-deflate; foo"}, Params{}, Params{}, false, true},
		{"duplicate", []string{"permessage-deflate; server_no_context_takeover; server_no_context_takeover"}, Params{}, Params{}, false, true},
		{"not offered", []string{"x-webkit-deflate-frame"}, Params{}, Params{}, false, true},
		{"two", []string{"permessage-deflate", "permessage-deflate"}, Params{}, Params{}, false, true},
		{"malformed", []string{"permessage-deflate;"}, Params{}, Params{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok, err := ParseAnswer(tt.answer, tt.cfg)
			if (err != nil) != tt.err || ok != tt.ok || p != tt.want {
				t.Fatalf("ParseAnswer(%q) = %+v, %v, %v; want %+v, %v, err=%v", tt.answer, p, ok, err, tt.want, tt.ok, tt.err)
			}
			if err != nil && !errors.Is(err, ErrAnswer) {
				t.Fatalf("error %v does not wrap ErrAnswer", err)
			}
		})
	}
}

// Every response our server gives is one our client accepts, with the same
// parameters on both ends.
func TestNegotiateThenParseAnswer(t *testing.T) {
	t.Parallel()
	bitsChoices := []int{0, 8, 10, 15}
	for _, c := range []Params{{}, {ServerNoContextTakeover: true}, {ClientNoContextTakeover: true}} {
		for _, sb := range bitsChoices {
			for _, cb := range bitsChoices {
				for _, srv := range []Params{{}, {ServerMaxWindowBits: 9, ClientMaxWindowBits: 9}, {ServerNoContextTakeover: true, ClientNoContextTakeover: true}} {
					client := c
					client.ServerMaxWindowBits, client.ClientMaxWindowBits = sb, cb
					sp, resp, ok := Negotiate([]string{Offer(client)}, srv)
					if !ok {
						t.Fatalf("server %+v declined %q", srv, Offer(client))
					}
					cp, ok, err := ParseAnswer([]string{resp}, client)
					if err != nil || !ok {
						t.Fatalf("client %+v rejected %q: %v", client, resp, err)
					}
					// The client may always compress with less than granted.
					if cp.ServerNoContextTakeover != sp.ServerNoContextTakeover || cp.ServerMaxWindowBits != sp.ServerMaxWindowBits ||
						cp.ClientMaxWindowBits > sp.ClientMaxWindowBits || (sp.ClientNoContextTakeover && !cp.ClientNoContextTakeover) {
						t.Fatalf("offer %q answer %q: server %+v, client %+v", Offer(client), resp, sp, cp)
					}
				}
			}
		}
	}
}

// TestAcceptThenAnswered makes both ends' States from a handshake: the
// server's window for what it sends is the client's for what it receives,
// and the other way round.
func TestAcceptThenAnswered(t *testing.T) {
	t.Parallel()
	want := Params{ClientNoContextTakeover: true}
	srv, answer := Accept([]string{"x-webkit-deflate-frame", Offer(want)}, Params{ServerMaxWindowBits: 10}, 5)
	if srv == nil || answer != "permessage-deflate; client_no_context_takeover; server_max_window_bits=10" {
		t.Fatalf("Accept: %v, %q", srv, answer)
	}
	cl, err := Answered([]string{answer}, want, 0)
	if err != nil || cl == nil {
		t.Fatalf("Answered(%q): %v, %v", answer, cl, err)
	}
	if srv.out.bits != cl.in.bits || srv.out.takeover != cl.in.takeover || srv.in.bits != cl.out.bits || srv.in.takeover || cl.out.takeover || srv.level != 5 || cl.level != 1 {
		t.Errorf("server %+v, client %+v", *srv, *cl)
	}
	if st, answer := Accept([]string{"deflate-stream"}, Params{}, 1); st != nil || answer != "" {
		t.Errorf("Accept without a permessage-deflate offer: %v, %q", st, answer)
	}
	if st, err := Answered(nil, want, 1); st != nil || err != nil {
		t.Errorf("Answered without an answer: %v, %v", st, err)
	}
	if st, err := Answered([]string{"permessage-deflate; server_max_window_bits=16"}, want, 1); st != nil || !errors.Is(err, ErrAnswer) {
		t.Errorf("Answered a bad answer: %v, %v", st, err)
	}
}

func TestUnoffered(t *testing.T) {
	t.Parallel()
	if err := Unoffered(nil); err != nil {
		t.Errorf("no extension: %v", err)
	}
	if err := Unoffered([]string{"permessage-deflate", "x"}); err == nil || err.Error() != `server answered with extensions "permessage-deflate, x", none of which were offered` {
		t.Errorf("extensions not offered: %v", err)
	}
}
