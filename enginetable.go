package websocket

import (
	"sync"
	"sync/atomic"
)

// connTable holds an engine's connections by id, for a few bytes each: an
// id is a slot's index in its low 32 bits and the slot's generation in its
// high 32 bits. A slot's generation grows each time the slot is freed, so an
// id outlives its connection harmlessly: an epoll event read just before a
// connection ended names an id that get no longer finds, even once another
// connection has taken the slot. Generations start at 1, so no id is 0.
//
// get takes no lock: the poller goroutines look every event up. add and
// remove, once per connection, take mu.
type connTable struct {
	mu     sync.Mutex
	chunks atomic.Pointer[[]*connChunk] // grows under mu; a chunk never moves
	free   []uint64                     // the next ids of free slots, under mu
	n      uint32                       // slots handed out so far, under mu
}

// connChunkSize is the number of slots a chunk holds (8 bytes each).
const connChunkSize = 1024

// connChunk is a run of slots, each holding one connection or none. A
// slot's generation is its connection's id's while it holds one, and its
// entry's in the free list while it does not.
type connChunk [connChunkSize]atomic.Pointer[engineConn]

// add gives ec a slot, and its id.
func (t *connTable) add(ec *engineConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := len(t.free); n > 0 {
		ec.id = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		i := t.n
		t.n++
		var chunks []*connChunk
		if p := t.chunks.Load(); p != nil {
			chunks = *p
		}
		if int(i/connChunkSize) == len(chunks) {
			grown := append(chunks[:len(chunks):len(chunks)], new(connChunk))
			t.chunks.Store(&grown)
		}
		ec.id = 1<<32 | uint64(i)
	}
	t.slot(uint32(ec.id)).Store(ec)
}

// slot returns slot i, which exists.
func (t *connTable) slot(i uint32) *atomic.Pointer[engineConn] {
	return &(*t.chunks.Load())[i/connChunkSize][i%connChunkSize]
}

// get returns the connection whose id is id, or nil if it has left.
func (t *connTable) get(id uint64) *engineConn {
	p := t.chunks.Load()
	i := uint32(id)
	if p == nil || int(i/connChunkSize) >= len(*p) {
		return nil
	}
	ec := (*p)[i/connChunkSize][i%connChunkSize].Load()
	if ec == nil || ec.id != id {
		return nil
	}
	return ec
}

// remove frees the slot of id, for a new generation.
func (t *connTable) remove(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.slot(uint32(id))
	if ec := s.Load(); ec == nil || ec.id != id {
		return
	}
	s.Store(nil)
	gen := uint32(id>>32) + 1
	if gen == 0 {
		gen = 1
	}
	t.free = append(t.free, uint64(gen)<<32|uint64(uint32(id)))
}

// len returns the number of connections in the table.
func (t *connTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return int(t.n) - len(t.free)
}

// each yields every connection in the table. It takes no lock, so yield
// may add and remove connections: one added or removed meanwhile may be
// yielded or not.
func (t *connTable) each(yield func(*engineConn) bool) {
	p := t.chunks.Load()
	if p == nil {
		return
	}
	for _, chunk := range *p {
		for i := range chunk {
			if ec := chunk[i].Load(); ec != nil && !yield(ec) {
				return
			}
		}
	}
}
