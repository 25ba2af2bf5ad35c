package pmdeflate

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"testing"
)

// corpusMessage returns n bytes of chat-like JSON, so messages share
// structure with each other and with earlier messages.
func corpusMessage(rng *rand.Rand, n int) []byte {
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	words := []string{"hello", "market", "price", "update", "the", "of", "websocket", "compression", "window", "ok", "42", "3.14159"}
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, `{"type":"message","user":%q,"seq":%d,"text":"`, users[rng.Intn(len(users))], rng.Intn(100000))
		for range 1 + rng.Intn(12) {
			b.WriteString(words[rng.Intn(len(words))])
			b.WriteByte(' ')
		}
		b.WriteString(`"}` + "\n")
	}
	return b.Bytes()[:n]
}

// randomMessage mixes compressible text, random bytes and runs.
func randomMessage(rng *rand.Rand, n int) []byte {
	switch rng.Intn(4) {
	case 0:
		p := make([]byte, n)
		rng.Read(p)
		return p
	case 1:
		return bytes.Repeat([]byte{byte(rng.Intn(256))}, n)
	}
	return corpusMessage(rng, n)
}

// pair is a server and a client State negotiated with the same Params.
func pair(p Params, level int) (server, client *State) {
	return NewState(p, true, level), NewState(p, false, level)
}

func TestRoundTripAllParams(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(1))
	sizes := []int{0, 1, 3, 4, 5, 100, 255, 256, 257, 1000, 4096, 40000, 70000}
	for _, bits := range []int{8, 9, 10, 11, 12, 13, 14, 15} {
		for _, noTakeover := range []bool{false, true} {
			for _, level := range []int{1, 6, 9} {
				p := Params{ServerNoContextTakeover: noTakeover, ClientNoContextTakeover: noTakeover, ServerMaxWindowBits: bits, ClientMaxWindowBits: bits}
				name := fmt.Sprintf("bits=%d/noTakeover=%v/level=%d", bits, noTakeover, level)
				t.Run(name, func(t *testing.T) {
					server, client := pair(p, level)
					strict := &strictInflater{window: 1 << bits, takeover: !noTakeover}
					for i := range 40 {
						msg := randomMessage(rng, sizes[rng.Intn(len(sizes))])
						var comp []byte
						if i%2 == 0 {
							comp = server.AppendCompressed(nil, msg)
						} else {
							var buf bytes.Buffer
							w := server.Writer(&buf)
							for rest := msg; len(rest) > 0; {
								k := min(len(rest), 1+rng.Intn(3000))
								if _, err := w.Write(rest[:k]); err != nil {
									t.Fatal(err)
								}
								rest = rest[k:]
							}
							if err := w.Close(); err != nil {
								t.Fatal(err)
							}
							comp = buf.Bytes()
						}
						got, err := strict.message(comp)
						if err != nil {
							t.Fatalf("message %d (%d bytes): strict inflater: %v", i, len(msg), err)
						}
						if !bytes.Equal(got, msg) {
							t.Fatalf("message %d: strict inflater output differs", i)
						}
						r := client.Reader(bytes.NewReader(comp), -1)
						dec, err := io.ReadAll(r)
						if cerr := r.Close(); err == nil {
							err = cerr
						}
						if err != nil || !bytes.Equal(dec, msg) {
							t.Fatalf("message %d: Reader: err=%v equal=%v", i, err, bytes.Equal(dec, msg))
						}
					}
					if strict.maxDist > 1<<bits {
						t.Fatalf("max distance %d beyond window", strict.maxDist)
					}
				})
			}
		}
	}
}
