package hub

import "github.com/duplexws/websocket"

// queue is a subscriber's FIFO of messages waiting to be written: a ring
// that grows by doubling up to the hub's queue length, so that a subscriber
// that keeps up holds only a few slots.
type queue struct {
	buf  []*websocket.PreparedMessage
	head int // index of the oldest message
	n    int // number of messages
}

// minQueueSlots is the size of a queue's first ring.
const minQueueSlots = 4

// push appends pm; the caller ensures that q holds fewer than limit
// messages.
func (q *queue) push(pm *websocket.PreparedMessage, limit int) {
	if q.n == len(q.buf) {
		q.grow(limit)
	}
	q.buf[(q.head+q.n)%len(q.buf)] = pm
	q.n++
}

// grow doubles the ring, up to limit slots.
func (q *queue) grow(limit int) {
	size := min(max(2*len(q.buf), minQueueSlots), limit)
	buf := make([]*websocket.PreparedMessage, size)
	for i := 0; i < q.n; i++ {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}

// pop removes and returns the oldest message, or nil if q is empty.
func (q *queue) pop() *websocket.PreparedMessage {
	if q.n == 0 {
		return nil
	}
	pm := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return pm
}

// reset empties q and releases its ring.
func (q *queue) reset() {
	*q = queue{}
}
