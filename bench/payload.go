package bench

import (
	"fmt"
	"math/rand/v2"
)

// binaryPayload returns n bytes of a fixed pattern for the echo benchmark,
// where the content does not matter.
func binaryPayload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + 3)
	}
	return p
}

// jsonText returns n bytes of compressible text in the shape of a stream of
// JSON events, as a chat or dashboard sends them: the same keys over and
// over with varying values. The seed fixes the content, so every library
// compresses the same bytes. The text is ASCII, so any cut is valid UTF-8.
func jsonText(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	events := []string{"click", "view", "scroll", "purchase", "login", "logout"}
	regions := []string{"eu-west", "us-east", "ap-south", "sa-east"}
	p := make([]byte, 0, n+256)
	p = append(p, '[')
	for i := 0; len(p) < n; i++ {
		if i > 0 {
			p = append(p, ',')
		}
		p = fmt.Appendf(p,
			`{"id":%d,"user":"user-%04d","event":%q,"region":%q,"ts":"2026-11-25T%02d:%02d:%02d.%03dZ","latency_ms":%.2f,"ok":%t}`,
			100000+i, r.IntN(5000), events[r.IntN(len(events))], regions[r.IntN(len(regions))],
			r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000), r.Float64()*250, r.IntN(10) != 0)
	}
	return p[:n]
}
