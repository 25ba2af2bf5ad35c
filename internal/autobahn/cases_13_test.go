package autobahn

import (
	"fmt"
	"testing"
)

func TestCases13(t *testing.T) {
	cs := cases13()
	if len(cs) != 126 {
		t.Fatalf("section 13 has %d cases, want 126", len(cs))
	}
	for i, c := range cs {
		if want := fmt.Sprintf("13.%d.%d", i/18+1, i%18+1); c.ID != want {
			t.Errorf("case %d is %s, want %s", i, c.ID, want)
		}
	}
}

// TestCases13Negotiation checks each subsection's offer, made by the suite
// as client, and its answers, as server, to the offer of a browser (the
// library's default) and to an offer without client_max_window_bits.
func TestCases13Negotiation(t *testing.T) {
	const (
		browser = "permessage-deflate; client_max_window_bits"
		bare    = "permessage-deflate"
	)
	tests := []struct {
		sub                       int
		offer                     string
		toBrowser, toBare         string
		toItself                  string
		serverBits, clientBits    int
		serverNoCtx, clientNoCtxt bool
	}{
		{1, "permessage-deflate; client_no_context_takeover; client_max_window_bits",
			"permessage-deflate", "permessage-deflate",
			"permessage-deflate", 15, 15, false, false},
		{2, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits",
			"permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover", 15, 15, true, true},
		{3, "permessage-deflate; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits",
			"permessage-deflate; client_max_window_bits=8", "",
			"permessage-deflate; server_max_window_bits=8; client_max_window_bits=8", 8, 8, false, false},
		{4, "permessage-deflate; client_no_context_takeover; server_max_window_bits=15; client_max_window_bits",
			"permessage-deflate; client_max_window_bits=15", "",
			"permessage-deflate; server_max_window_bits=15; client_max_window_bits=15", 15, 15, false, false},
		{5, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits",
			"permessage-deflate; client_no_context_takeover; client_max_window_bits=8", "",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=8", 8, 8, true, true},
		{6, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15; client_max_window_bits",
			"permessage-deflate; client_no_context_takeover; client_max_window_bits=15", "",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15; client_max_window_bits=15", 15, 15, true, true},
		{7, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits, " +
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits, " +
			"permessage-deflate; client_no_context_takeover; client_max_window_bits",
			"permessage-deflate; client_no_context_takeover; client_max_window_bits=8", "permessage-deflate; client_no_context_takeover",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=8", 8, 8, true, true},
	}
	cs := cases13()
	for _, tt := range tests {
		c := cs[(tt.sub-1)*18]
		if c.Offer != tt.offer {
			t.Errorf("13.%d offers %q, want %q", tt.sub, c.Offer, tt.offer)
		}
		if got := c.Answer(browser); got != tt.toBrowser {
			t.Errorf("13.%d answers %q with %q, want %q", tt.sub, browser, got, tt.toBrowser)
		}
		if got := c.Answer(bare); got != tt.toBare {
			t.Errorf("13.%d answers %q with %q, want %q", tt.sub, bare, got, tt.toBare)
		}
		// The suite's own answer to its own offer is what a server would
		// answer as Autobahn does, and the client side accepts it.
		answer := c.Answer(c.Offer)
		if answer != tt.toItself {
			t.Errorf("13.%d answers its own offer with %q, want %q", tt.sub, answer, tt.toItself)
		}
		offers, _ := deflateOffers([]string{c.Offer})
		cfg, ok, err := checkDeflateResponse([]string{answer}, offers)
		want := deflateConfig{tt.serverNoCtx, tt.clientNoCtxt, tt.serverBits, tt.clientBits}
		if !ok || err != nil || cfg != want {
			t.Errorf("13.%d: its own answer gives %+v, %t, %v; want %+v", tt.sub, cfg, ok, err, want)
		}
	}
}

func TestDeflateSectionsRunOnRequest(t *testing.T) {
	if n := len(Cases(12, 13)); n != 90+126 {
		t.Errorf("Cases(12, 13) has %d cases, want 216", n)
	}
	for _, c := range Cases() {
		if c.Offer != "" {
			t.Fatalf("Cases() holds %s, which offers %q; sections 12 and 13 run only when asked for", c.ID, c.Offer)
		}
	}
}
