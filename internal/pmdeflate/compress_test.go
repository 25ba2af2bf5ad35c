package pmdeflate

import (
	"bytes"
	"io"
	"math/rand"
	"testing"
)

func TestTailWriterHoldsBackLastFour(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(4))
	for range 500 {
		data := make([]byte, rng.Intn(40))
		rng.Read(data)
		var out bytes.Buffer
		tw := tailWriter{dst: &out}
		for rest := data; len(rest) > 0; {
			k := min(len(rest), rng.Intn(6))
			if _, err := tw.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		cut := max(0, len(data)-4)
		if !bytes.Equal(out.Bytes(), data[:cut]) || !bytes.Equal(tw.buf[:tw.n], data[cut:]) {
			t.Fatalf("data % x: passed % x, held % x", data, out.Bytes(), tw.buf[:tw.n])
		}
	}
}

// RFC 7692 §7.2.3.6: the empty message compresses to the single byte 0x00.
func TestCompressEmptyMessage(t *testing.T) {
	t.Parallel()
	st := NewState(Params{}, true, 1)
	if got := st.AppendCompressed(nil, nil); !bytes.Equal(got, []byte{0x00}) {
		t.Fatalf("empty message = % x, want 00", got)
	}
	var buf bytes.Buffer
	if err := st.Writer(&buf).Close(); err != nil || !bytes.Equal(buf.Bytes(), []byte{0x00}) {
		t.Fatalf("empty Writer message = % x, %v", buf.Bytes(), err)
	}
}

// RFC 7692 §7.2.3.2: with context takeover a repeated message is sent as a
// reference to the previous one; without, it is compressed alone each time.
func TestCompressContextTakeover(t *testing.T) {
	t.Parallel()
	msg := []byte("Hello, this message repeats itself from one frame to the next. ")
	for _, takeover := range []bool{true, false} {
		st := NewState(Params{ServerNoContextTakeover: !takeover}, true, 1)
		first := st.AppendCompressed(nil, msg)
		second := st.AppendCompressed(nil, msg)
		if takeover && len(second) >= len(first)/3 {
			t.Errorf("takeover: second message is %d bytes after %d", len(second), len(first))
		}
		if !takeover && !bytes.Equal(first, second) {
			t.Errorf("no takeover: the same message compressed differently")
		}
		// A Writer whose first write is empty is primed at the first byte.
		var third bytes.Buffer
		w := st.Writer(&third)
		w.Write(nil)
		w.Write(msg)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if takeover && third.Len() >= len(first)/3 {
			t.Errorf("takeover: a message streamed after an empty write is %d bytes after %d", third.Len(), len(first))
		}
	}
}

// A message compressed once for many connections (Compress) and recorded
// with Sent keeps each connection's window in step with its peer.
func TestCompressSharedThenSent(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(5))
	for _, bits := range []int{9, 15} {
		p := Params{ServerMaxWindowBits: bits}
		server, client := pair(p, 1)
		strict := &strictInflater{window: 1 << bits, takeover: true}
		for i := range 30 {
			msg := corpusMessage(rng, 50+rng.Intn(3000))
			var comp []byte
			if i%3 == 0 {
				comp = Compress(nil, msg, server.Variant())
				server.Sent(msg)
			} else {
				comp = server.AppendCompressed(nil, msg)
			}
			if got, err := strict.message(comp); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("bits %d message %d: strict inflater: %v", bits, i, err)
			}
			r := client.Reader(bytes.NewReader(comp), -1)
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("bits %d message %d: %v", bits, i, err)
			}
		}
	}
}

type errWriter struct{ err error }

func (e errWriter) Write([]byte) (int, error) { return 0, e.err }

func TestWriterDestinationError(t *testing.T) {
	t.Parallel()
	st := NewState(Params{}, true, 1)
	w := st.Writer(errWriter{io.ErrClosedPipe})
	msg := make([]byte, 200000)
	rand.New(rand.NewSource(6)).Read(msg)
	_, werr := w.Write(msg)
	cerr := w.Close()
	if werr != io.ErrClosedPipe && cerr != io.ErrClosedPipe {
		t.Fatalf("Write = %v, Close = %v; want the destination's error", werr, cerr)
	}
}
