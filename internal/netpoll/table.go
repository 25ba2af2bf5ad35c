package netpoll

import (
	"sync"
	"sync/atomic"
)

// Table holds connections by id, for a few bytes each: an id is a slot's
// index in its low 32 bits and the slot's generation in its high 32 bits. A
// slot's generation grows each time the slot is freed, so an id outlives
// its connection harmlessly: an epoll event read just before a connection
// ended names an id that Get no longer finds, even once another connection
// has taken the slot. Generations start at 1, so no id is 0, which a
// Poller keeps for its own wake-up.
//
// A connection keeps its own id, where its TableID points; T is its type
// and P the pointer to it. Get takes no lock: the poller goroutines look
// every event up. Add and Remove, once per connection, take mu.
type Table[T any, P Entry[T]] struct {
	mu     sync.Mutex
	chunks atomic.Pointer[[]*chunk[T]] // grows under mu; a chunk never moves
	free   []uint64                    // the next ids of free slots, under mu
	n      uint32                      // slots handed out so far, under mu
}

// Entry is what a Table holds: a pointer to a connection that keeps the id
// the table gave it where TableID points.
type Entry[T any] interface {
	*T
	TableID() *uint64
}

// chunkSize is the number of slots a chunk holds (8 bytes each).
const chunkSize = 1024

// chunk is a run of slots, each holding one connection or none. A slot's
// generation is its connection's id's while it holds one, and its entry's
// in the free list while it does not.
type chunk[T any] [chunkSize]atomic.Pointer[T]

// Add gives c a slot, and its id.
func (t *Table[T, P]) Add(c P) {
	t.mu.Lock()
	defer t.mu.Unlock()
	id := c.TableID()
	if n := len(t.free); n > 0 {
		*id = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		i := t.n
		t.n++
		var chunks []*chunk[T]
		if p := t.chunks.Load(); p != nil {
			chunks = *p
		}
		if int(i/chunkSize) == len(chunks) {
			grown := append(chunks[:len(chunks):len(chunks)], new(chunk[T]))
			t.chunks.Store(&grown)
		}
		*id = 1<<32 | uint64(i)
	}
	t.slot(uint32(*id)).Store(c)
}

// slot returns slot i, which exists.
func (t *Table[T, P]) slot(i uint32) *atomic.Pointer[T] {
	return &(*t.chunks.Load())[i/chunkSize][i%chunkSize]
}

// Get returns the connection whose id is id, or nil if it has left.
func (t *Table[T, P]) Get(id uint64) P {
	p := t.chunks.Load()
	i := uint32(id)
	if p == nil || int(i/chunkSize) >= len(*p) {
		return nil
	}
	c := P((*p)[i/chunkSize][i%chunkSize].Load())
	if c == nil || *c.TableID() != id {
		return nil
	}
	return c
}

// Remove frees the slot of id, for a new generation.
func (t *Table[T, P]) Remove(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.slot(uint32(id))
	if c := P(s.Load()); c == nil || *c.TableID() != id {
		return
	}
	s.Store(nil)
	gen := uint32(id>>32) + 1
	if gen == 0 {
		gen = 1
	}
	t.free = append(t.free, uint64(gen)<<32|uint64(uint32(id)))
}

// Len returns the number of connections in the table.
func (t *Table[T, P]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return int(t.n) - len(t.free)
}

// Each yields every connection in the table. It takes no lock, so yield
// may add and remove connections: one added or removed meanwhile may be
// yielded or not.
func (t *Table[T, P]) Each(yield func(P) bool) {
	p := t.chunks.Load()
	if p == nil {
		return
	}
	for _, chunk := range *p {
		for i := range chunk {
			if c := chunk[i].Load(); c != nil && !yield(c) {
				return
			}
		}
	}
}
