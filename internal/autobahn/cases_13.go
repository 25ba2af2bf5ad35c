package autobahn

import "fmt"

// Section 13 is section 12's JSON data under seven negotiations of
// permessage-deflate: context takeover kept or given up and windows of 8 or
// 15 bits, asked by the client of the server's messages and by the server
// of the client's. 13.7 offers three alternatives at once, and the server
// prefers them in that order.

// deflateNegotiations are the offers of subsections 13.1 to 13.7 and the
// acceptances of the suite as server, in Autobahn's order.
var deflateNegotiations = [7]struct {
	offers []deflateParams
	accept []deflateAcceptance
}{
	{[]deflateParams{defaultDeflateOffer}, []deflateAcceptance{{}}},
	{[]deflateParams{withServerParams(true, 0)}, []deflateAcceptance{{clientNoContextTakeover: true}}},
	{[]deflateParams{withServerParams(false, 8)}, []deflateAcceptance{{clientMaxWindowBits: 8}}},
	{[]deflateParams{withServerParams(false, 15)}, []deflateAcceptance{{clientMaxWindowBits: 15}}},
	{[]deflateParams{withServerParams(true, 8)}, []deflateAcceptance{{clientNoContextTakeover: true, clientMaxWindowBits: 8}}},
	{[]deflateParams{withServerParams(true, 15)}, []deflateAcceptance{{clientNoContextTakeover: true, clientMaxWindowBits: 15}}},
	{
		[]deflateParams{withServerParams(true, 8), withServerParams(true, 0), defaultDeflateOffer},
		[]deflateAcceptance{{clientNoContextTakeover: true, clientMaxWindowBits: 8}, {clientNoContextTakeover: true}, {}},
	},
}

// withServerParams is the default offer asking the server to give up
// context takeover and to keep its window within 2^bits bytes (0: no limit).
func withServerParams(noContextTakeover bool, bits int) deflateParams {
	o := defaultDeflateOffer
	o.serverNoContextTakeover, o.serverMaxWindowBits = noContextTakeover, bits
	return o
}

// cases13 returns section 13: every negotiation with every row of
// deflateRuns, on the JSON data set.
func cases13() []Case {
	var out []Case
	for j, n := range deflateNegotiations {
		for i, run := range deflateRuns {
			spec := deflateSpec{data: deflateDatasets[0], run: run, offers: n.offers, accept: n.accept}
			out = append(out, spec.newCase(fmt.Sprintf("13.%d.%d", j+1, i+1)))
		}
	}
	return out
}
