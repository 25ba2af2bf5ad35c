package pmdeflate

import (
	"testing"
)

func TestNegotiate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		offer  []string
		cfg    Params
		ok     bool
		resp   string
		params Params
	}{
		{"chrome", []string{"permessage-deflate; client_max_window_bits"}, Params{}, true,
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 12}},
		{"chrome, full windows asked for", []string{"permessage-deflate; client_max_window_bits"}, Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, true,
			"permessage-deflate", Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}},
		{"firefox", []string{"permessage-deflate"}, Params{}, true,
			"permessage-deflate; server_max_window_bits=12", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 15}},
		{"safari old", []string{"x-webkit-deflate-frame"}, Params{}, false, "", Params{}},
		{"deflate-stream", []string{"deflate-stream"}, Params{}, false, "", Params{}},
		{"python websockets", []string{"permessage-deflate; client_max_window_bits=12; server_max_window_bits=12"}, Params{}, true,
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 12}},
		{"node ws", []string{"permessage-deflate; client_max_window_bits"}, Params{ClientMaxWindowBits: 10}, true,
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=10", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 10}},
		{"all params", []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=9"}, Params{}, true,
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=9",
			Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 9}},
		{"quoted value", []string{`permessage-deflate; server_max_window_bits="10"`}, Params{}, true,
			"permessage-deflate; server_max_window_bits=10", Params{ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}},
		{"offered value above the takeover default", []string{"permessage-deflate; server_max_window_bits=14; client_max_window_bits=13"}, Params{}, true,
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 12}},
		{"no takeover keeps full windows", []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits"}, Params{}, true,
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}},
		{"config forces flags", []string{"permessage-deflate"}, Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, true,
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}},
		{"server bits unasked", []string{"permessage-deflate"}, Params{ServerMaxWindowBits: 11}, true,
			"permessage-deflate; server_max_window_bits=11", Params{ServerMaxWindowBits: 11, ClientMaxWindowBits: 15}},
		{"server bits smaller of two", []string{"permessage-deflate; server_max_window_bits=9"}, Params{ServerMaxWindowBits: 11}, true,
			"permessage-deflate; server_max_window_bits=9", Params{ServerMaxWindowBits: 9, ClientMaxWindowBits: 15}},
		{"client bits not offered", []string{"permessage-deflate"}, Params{ClientMaxWindowBits: 9}, true,
			"permessage-deflate; server_max_window_bits=12", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 15}},
		{"client bits offered value smaller than config", []string{"permessage-deflate; client_max_window_bits=9"}, Params{ClientMaxWindowBits: 12}, true,
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=9", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 9}},
		{"first acceptable offer wins", []string{"permessage-deflate; foo, permessage-deflate; server_max_window_bits=10, permessage-deflate"}, Params{}, true,
			"permessage-deflate; server_max_window_bits=10", Params{ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}},
		{"offers over two lines", []string{"x-webkit-deflate-frame", "permessage-deflate; client_max_window_bits"}, Params{}, true,
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 12}},
		{"unknown param", []string{"permessage-deflate; foo=1"}, Params{}, false, "", Params{}},
		{"duplicate param", []string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}, Params{}, false, "", Params{}},
		{"server bits without value", []string{"permessage-deflate; server_max_window_bits"}, Params{}, false, "", Params{}},
		{"server bits 7", []string{"permessage-deflate; server_max_window_bits=7"}, Params{}, false, "", Params{}},
		{"server bits 16", []string{"permessage-deflate; server_max_window_bits=16"}, Params{}, false, "", Params{}},
		{"leading zero", []string{"permessage-deflate; client_max_window_bits=09"}, Params{}, false, "", Params{}},
		{"value on flag", []string{"permessage-deflate; server_no_context_takeover=1"}, Params{}, false, "", Params{}},
		{"malformed header", []string{"permessage-deflate; ;"}, Params{}, false, "", Params{}},
		{"case differs", []string{"Permessage-Deflate"}, Params{}, false, "", Params{}},
		{"empty", nil, Params{}, false, "", Params{}},
		{"invalid config", []string{"permessage-deflate"}, Params{ServerMaxWindowBits: 20}, false, "", Params{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, resp, ok := Negotiate(tt.offer, tt.cfg)
			if ok != tt.ok || resp != tt.resp || p != tt.params {
				t.Fatalf("Negotiate(%q) = %+v, %q, %v; want %+v, %q, %v", tt.offer, p, resp, ok, tt.params, tt.resp, tt.ok)
			}
		})
	}
}
