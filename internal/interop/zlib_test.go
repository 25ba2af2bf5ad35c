package interop_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/duplexws/websocket/internal/peer"
	"github.com/duplexws/websocket/internal/pmdeflate"
)

// TestZlibInterop exchanges messages with Python's zlib, the inflater and
// deflater behind Python websockets (and, as zlib, behind browsers and Node
// ws): it must inflate what we send, and we what it sends, for every window
// size with and without context takeover.
func TestZlibInterop(t *testing.T) {
	py := peer.Require(t, peer.Python)
	for _, bits := range []int{8, 9, 10, 12, 15} {
		for _, takeover := range []bool{true, false} {
			t.Run(fmt.Sprintf("bits=%d/takeover=%v", bits, takeover), func(t *testing.T) {
				p := pmdeflate.Params{ServerNoContextTakeover: !takeover, ClientNoContextTakeover: !takeover, ServerMaxWindowBits: bits, ClientMaxWindowBits: max(bits, 9)}
				ours := pmdeflate.NewState(p, true, 1)
				rng := rand.New(rand.NewSource(int64(bits)))
				var in strings.Builder
				fmt.Fprintf(&in, "%d %d\n", bits, map[bool]int{false: 0, true: 1}[takeover])
				var msgs [][]byte
				for range 20 {
					msg := zlibMessage(rng, rng.Intn(6000))
					msgs = append(msgs, msg)
					fmt.Fprintln(&in, hex.EncodeToString(ours.AppendCompressed(nil, msg)))
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, py.Path, "testdata/zlib_peer.py")
				cmd.Env = append(cmd.Environ(), py.Env...)
				cmd.Stdin = strings.NewReader(in.String())
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("zlib peer: %v\n%s", err, stderr.String())
				}
				lines := strings.Split(strings.TrimSpace(string(out)), "\n")
				if len(lines) != len(msgs) {
					t.Fatalf("zlib peer answered %d lines for %d messages\n%s", len(lines), len(msgs), stderr.String())
				}
				for i, line := range lines {
					plainHex, answerHex, _ := strings.Cut(line, " ")
					plain, _ := hex.DecodeString(plainHex)
					if !bytes.Equal(plain, msgs[i]) {
						t.Fatalf("message %d: zlib inflated something else", i)
					}
					answer, _ := hex.DecodeString(answerHex)
					r := ours.Reader(bytes.NewReader(answer), -1)
					got, err := io.ReadAll(r)
					r.Close()
					if err != nil || !bytes.Equal(got, msgs[i]) {
						t.Fatalf("message %d: inflating zlib's answer: %v", i, err)
					}
				}
			})
		}
	}
}

// zlibMessage is n random bytes, one byte repeated, or repetitive text,
// chosen by rng.
func zlibMessage(rng *rand.Rand, n int) []byte {
	switch rng.Intn(3) {
	case 0:
		p := make([]byte, n)
		rng.Read(p)
		return p
	case 1:
		return bytes.Repeat([]byte{byte(rng.Intn(256))}, n)
	}
	return repetitiveText(n)
}
