package websocket

import "testing"

// TestParseFrameHeaderPartial checks that every proper prefix of a header
// asks for more bytes without an error, and the whole header parses to what
// was encoded: the property a reader driven by readiness events relies on.
func TestParseFrameHeaderPartial(t *testing.T) {
	t.Parallel()
	for _, h := range []frameHeader{
		{fin: true, op: opText, length: 5},
		{fin: true, op: opBinary, masked: true, key: 0x11223344, length: 300},
		{op: opBinary, rsv: bitRSV1, length: 1 << 20},
		{fin: true, op: opPing, masked: true, key: 1, length: 125},
	} {
		b := appendFrameHeader(nil, h)
		for i := range len(b) {
			if _, n, err := parseFrameHeader(b[:i]); n != 0 || err != nil {
				t.Fatalf("%+v: %d of %d bytes gave n=%d, err=%v; want a request for more", h, i, len(b), n, err)
			}
		}
		got, n, err := parseFrameHeader(append(b, 0xAA))
		if err != nil || n != len(b) || got != h {
			t.Fatalf("parseFrameHeader(%x) = %+v, %d, %v; want %+v, %d", b, got, n, err, h, len(b))
		}
	}
}
