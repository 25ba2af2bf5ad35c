package pmdeflate

// window is the LZ77 sliding window one direction keeps between messages
// under context takeover: the last size bytes of uncompressed data. It grows
// with the data, in steps, up to size, and is then reused as a ring, so a
// connection holds at most 2^bits bytes per direction that takes over
// context, and less while it has not sent or received that much.
type window struct {
	buf  []byte // while not full, the data so far; then a ring of size bytes
	size int
	pos  int  // once full, where the next byte goes
	full bool // buf holds size valid bytes
}

func (w *window) write(p []byte) {
	if len(p) == 0 {
		return
	}
	if len(p) >= w.size {
		if cap(w.buf) < w.size {
			w.buf = make([]byte, w.size)
		}
		w.buf = w.buf[:w.size]
		copy(w.buf, p[len(p)-w.size:])
		w.pos, w.full = 0, true
		return
	}
	if !w.full {
		if need := len(w.buf) + len(p); need > cap(w.buf) {
			grown := make([]byte, len(w.buf), min(w.size, max(need, 2*cap(w.buf))))
			copy(grown, w.buf)
			w.buf = grown
		}
		n := min(len(p), w.size-len(w.buf))
		w.buf = append(w.buf, p[:n]...)
		p = p[n:]
		if len(w.buf) < w.size {
			return
		}
		w.pos, w.full = 0, true
	}
	n := copy(w.buf[w.pos:], p)
	if n < len(p) {
		w.pos = copy(w.buf, p[n:])
		return
	}
	w.pos += n
	if w.pos == w.size {
		w.pos = 0
	}
}

// appendTail appends the window's last n bytes (all of them if it holds
// fewer), oldest first.
func (w *window) appendTail(dst []byte, n int) []byte {
	if !w.full {
		return append(dst, w.buf[max(0, len(w.buf)-n):]...)
	}
	n = min(n, w.size)
	if n <= w.pos {
		return append(dst, w.buf[w.pos-n:w.pos]...)
	}
	dst = append(dst, w.buf[w.size-(n-w.pos):]...)
	return append(dst, w.buf[:w.pos]...)
}
