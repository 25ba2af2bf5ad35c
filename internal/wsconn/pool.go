package wsconn

import "sync"

// Buffers are borrowed per frame or per message and returned at once, so an
// idle connection holds none. Three size classes cover control frames and
// small messages, streamed frames, and large single writes.
var bufferPools = [...]struct {
	size int
	pool sync.Pool
}{
	{size: 512},
	{size: 4 << 10},
	{size: 64 << 10},
}

// GetBuffer returns a buffer of length 0 and capacity at least n, or exactly n
// when n is larger than the largest class.
func GetBuffer(n int) *[]byte {
	for i := range bufferPools {
		p := &bufferPools[i]
		if n <= p.size {
			if b, ok := p.pool.Get().(*[]byte); ok {
				*b = (*b)[:0]
				return b
			}
			b := make([]byte, 0, p.size)
			return &b
		}
	}
	b := make([]byte, 0, n)
	return &b
}

// PutBuffer returns b to its class; buffers of other sizes are dropped.
func PutBuffer(b *[]byte) {
	for i := range bufferPools {
		p := &bufferPools[i]
		if cap(*b) == p.size {
			p.pool.Put(b)
			return
		}
	}
}
