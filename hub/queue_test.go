package hub

import (
	"testing"

	"github.com/duplexws/websocket"
)

func TestQueueWrapsAndGrowsInOrder(t *testing.T) {
	t.Parallel()
	const limit = 10
	msgs := make([]*websocket.PreparedMessage, 100)
	for i := range msgs {
		msgs[i] = websocket.NewPreparedMessage(websocket.MessageText, []byte{byte(i)})
	}
	var q queue
	next, out := 0, 0
	// Interleave pushes and pops so that the ring wraps while it grows.
	for _, step := range []struct{ push, pop int }{{3, 2}, {3, 1}, {6, 4}, {5, 9}, {9, 3}, {3, 10}} {
		for range step.push {
			q.push(msgs[next], limit)
			next++
		}
		if q.n > limit || len(q.buf) > limit {
			t.Fatalf("queue holds %d in %d slots, limit %d", q.n, len(q.buf), limit)
		}
		for range step.pop {
			if got := q.pop(); got != msgs[out] {
				t.Fatalf("pop returned message %v, want %d", got, out)
			}
			out++
		}
	}
	if q.n != 0 || q.pop() != nil {
		t.Fatalf("queue not empty after popping everything: %d left", q.n)
	}
	q.push(msgs[0], limit)
	q.reset()
	if q.n != 0 || q.buf != nil {
		t.Fatal("reset kept messages or the ring")
	}
}
