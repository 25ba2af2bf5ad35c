package pmdeflate

import (
	"bytes"
	"io"
	"math/rand"
	"testing"
)

// benchCompress compresses a stream of distinct messages, more of them than
// a window holds, so that context takeover finds what a real stream offers
// rather than the previous message repeated.
func benchCompress(b *testing.B, size int, p Params) {
	rng := rand.New(rand.NewSource(8))
	msgs := make([][]byte, max(8, 2*(32<<10)/size))
	for i := range msgs {
		msgs[i] = corpusMessage(rng, size)
	}
	st := NewState(p, true, 1)
	var buf []byte
	var wire int64
	b.ReportAllocs()
	b.SetBytes(int64(size))
	i := 0
	for b.Loop() {
		buf = st.AppendCompressed(buf[:0], msgs[i%len(msgs)])
		wire += int64(len(buf))
		i++
	}
	b.ReportMetric(float64(wire)/float64(int64(i)*int64(size)), "ratio")
}

func benchDecompress(b *testing.B, size int, p Params) {
	msg := corpusMessage(rand.New(rand.NewSource(9)), size)
	sender, receiver := pair(p, 1)
	// Under takeover every message must be the one the receiver expects
	// next, so the sender's messages are prepared ahead in one stream.
	const n = 64
	comps := make([][]byte, n)
	for i := range comps {
		comps[i] = sender.AppendCompressed(nil, msg)
	}
	out := make([]byte, 32<<10)
	src := bytes.NewReader(nil)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	i := 0
	for b.Loop() {
		if i == n {
			b.StopTimer()
			sender, receiver = pair(p, 1)
			for j := range comps {
				comps[j] = sender.AppendCompressed(comps[j][:0], msg)
			}
			i = 0
			b.StartTimer()
		}
		src.Reset(comps[i])
		i++
		r := receiver.Reader(src, -1)
		for {
			_, err := r.Read(out)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		r.Close()
	}
}

var (
	noTakeover = Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	takeover   = Params{}
	window10   = Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 10}
)

func BenchmarkCompress1KiB(b *testing.B)            { benchCompress(b, 1<<10, noTakeover) }
func BenchmarkCompress1KiBTakeover(b *testing.B)    { benchCompress(b, 1<<10, takeover) }
func BenchmarkCompress1KiBWindow10(b *testing.B)    { benchCompress(b, 1<<10, window10) }
func BenchmarkCompress64KiB(b *testing.B)           { benchCompress(b, 64<<10, noTakeover) }
func BenchmarkCompress64KiBTakeover(b *testing.B)   { benchCompress(b, 64<<10, takeover) }
func BenchmarkDecompress1KiB(b *testing.B)          { benchDecompress(b, 1<<10, noTakeover) }
func BenchmarkDecompress1KiBTakeover(b *testing.B)  { benchDecompress(b, 1<<10, takeover) }
func BenchmarkDecompress64KiB(b *testing.B)         { benchDecompress(b, 64<<10, noTakeover) }
func BenchmarkDecompress64KiBTakeover(b *testing.B) { benchDecompress(b, 64<<10, takeover) }

func BenchmarkWriterStream64KiB(b *testing.B) {
	msg := corpusMessage(rand.New(rand.NewSource(10)), 64<<10)
	st := NewState(noTakeover, true, 1)
	var buf bytes.Buffer
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		buf.Reset()
		w := st.Writer(&buf)
		for off := 0; off < len(msg); off += 4096 {
			if _, err := w.Write(msg[off : off+4096]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNegotiate(b *testing.B) {
	offer := []string{"permessage-deflate; client_max_window_bits, x-webkit-deflate-frame"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := Negotiate(offer, Params{}); !ok {
			b.Fatal("declined")
		}
	}
}
