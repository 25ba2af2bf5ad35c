package pmdeflate

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"testing"
)

// TestIdleStateMemory measures what an idle connection keeps after it sent
// and received a message: nothing but the State without context takeover,
// and with it the sliding windows, which hold what went through them (at
// most 2^bits bytes a direction).
func TestIdleStateMemory(t *testing.T) {
	msg := corpusMessage(rand.New(rand.NewSource(7)), 4096)
	const conns = 200
	for _, tc := range []struct {
		noTakeover bool
		bits       int
	}{{true, 15}, {false, 15}, {false, 10}, {false, 8}} {
		t.Run(fmt.Sprintf("noTakeover=%v/bits=%d", tc.noTakeover, tc.bits), func(t *testing.T) {
			p := Params{ServerNoContextTakeover: tc.noTakeover, ClientNoContextTakeover: tc.noTakeover, ServerMaxWindowBits: tc.bits, ClientMaxWindowBits: tc.bits}
			peer := NewState(p, false, 1)
			comp := peer.AppendCompressed(nil, msg)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.GC()
			runtime.ReadMemStats(&before)
			states := make([]*State, conns)
			for i := range states {
				st := NewState(p, true, 1)
				_ = st.AppendCompressed(nil, msg)
				r := st.Reader(bytes.NewReader(comp), -1)
				if _, err := io.Copy(io.Discard, r); err != nil {
					t.Fatal(err)
				}
				r.Close()
				states[i] = st
			}
			// Two collections empty the pools (their victim cache included).
			runtime.GC()
			runtime.GC()
			runtime.ReadMemStats(&after)
			perConn := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / conns
			runtime.KeepAlive(states)
			want := int64(512)
			if !tc.noTakeover {
				want += int64(2 * min(1<<tc.bits, 2*len(msg))) // a direction's window grows in steps of at most 2x
			}
			t.Logf("retained per idle connection: %d bytes (bound %d)", perConn, want)
			if perConn > want {
				t.Fatalf("an idle connection keeps %d bytes, want at most %d", perConn, want)
			}
		})
	}
}
