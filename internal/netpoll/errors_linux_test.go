package netpoll

import "testing"

// TestReadNowSaysErrEmpty checks that ReadNow of an empty socket returns
// ErrEmpty itself, which a WebSocket's reader compares its error with.
func TestReadNowSaysErrEmpty(t *testing.T) {
	t.Parallel()
	c, _, _ := attached(t)
	if _, err := c.ReadNow(make([]byte, 8)); err != ErrEmpty {
		t.Fatalf("ReadNow of an empty socket: %v, want ErrEmpty", err)
	}
}
