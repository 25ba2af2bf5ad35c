package pmdeflate

import (
	"testing"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name   string
		offer  []string
		cfg    Config
		ok     bool
		resp   string
		params Params
	}{
		{"chrome", []string{"permessage-deflate; client_max_window_bits"}, Config{}, true,
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 12}},
		{"chrome, full windows asked for", []string{"permessage-deflate; client_max_window_bits"}, Config{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, true,
			"permessage-deflate", Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}},
		{"firefox", []string{"permessage-deflate"}, Config{}, true,
			"permessage-deflate; server_max_window_bits=12", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 15}},
		{"safari old", []string{"x-webkit-deflate-frame"}, Config{}, false, "", Params{}},
		{"deflate-stream", []string{"deflate-stream"}, Config{}, false, "", Params{}},
		{"python websockets", []string{"permessage-deflate; client_max_window_bits=12; server_max_window_bits=12"}, Config{}, true,
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 12}},
		{"node ws", []string{"permessage-deflate; client_max_window_bits"}, Config{ClientMaxWindowBits: 10}, true,
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=10", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 10}},
		{"all params", []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=9"}, Config{}, true,
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=9",
			Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 9}},
		{"quoted value", []string{`permessage-deflate; server_max_window_bits="10"`}, Config{}, true,
			"permessage-deflate; server_max_window_bits=10", Params{ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}},
		{"offered value above the takeover default", []string{"permessage-deflate; server_max_window_bits=14; client_max_window_bits=13"}, Config{}, true,
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 12}},
		{"no takeover keeps full windows", []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits"}, Config{}, true,
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}},
		{"config forces flags", []string{"permessage-deflate"}, Config{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, true,
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}},
		{"server bits unasked", []string{"permessage-deflate"}, Config{ServerMaxWindowBits: 11}, true,
			"permessage-deflate; server_max_window_bits=11", Params{ServerMaxWindowBits: 11, ClientMaxWindowBits: 15}},
		{"server bits smaller of two", []string{"permessage-deflate; server_max_window_bits=9"}, Config{ServerMaxWindowBits: 11}, true,
			"permessage-deflate; server_max_window_bits=9", Params{ServerMaxWindowBits: 9, ClientMaxWindowBits: 15}},
		{"client bits not offered", []string{"permessage-deflate"}, Config{ClientMaxWindowBits: 9}, true,
			"permessage-deflate; server_max_window_bits=12", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 15}},
		{"client bits offered value smaller than config", []string{"permessage-deflate; client_max_window_bits=9"}, Config{ClientMaxWindowBits: 12}, true,
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=9", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 9}},
		{"first acceptable offer wins", []string{"permessage-deflate; foo, permessage-deflate; server_max_window_bits=10, permessage-deflate"}, Config{}, true,
			"permessage-deflate; server_max_window_bits=10", Params{ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}},
		{"offers over two lines", []string{"x-webkit-deflate-frame", "permessage-deflate; client_max_window_bits"}, Config{}, true,
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 12}},
		{"unknown param", []string{"permessage-deflate; foo=1"}, Config{}, false, "", Params{}},
		{"duplicate param", []string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}, Config{}, false, "", Params{}},
		{"server bits without value", []string{"permessage-deflate; server_max_window_bits"}, Config{}, false, "", Params{}},
		{"server bits 7", []string{"permessage-deflate; server_max_window_bits=7"}, Config{}, false, "", Params{}},
		{"server bits 16", []string{"permessage-deflate; server_max_window_bits=16"}, Config{}, false, "", Params{}},
		{"leading zero", []string{"permessage-deflate; client_max_window_bits=09"}, Config{}, false, "", Params{}},
		{"value on flag", []string{"permessage-deflate; server_no_context_takeover=1"}, Config{}, false, "", Params{}},
		{"malformed header", []string{"permessage-deflate; ;"}, Config{}, false, "", Params{}},
		{"case differs", []string{"Permessage-Deflate"}, Config{}, false, "", Params{}},
		{"empty", nil, Config{}, false, "", Params{}},
		{"invalid config", []string{"permessage-deflate"}, Config{ServerMaxWindowBits: 20}, false, "", Params{}},
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
