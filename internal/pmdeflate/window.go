package pmdeflate

// window is the LZ77 sliding window one direction keeps between messages
// under context takeover: a ring holding the last size bytes of uncompressed
// data. Its buffer is allocated on first use and never grows beyond size, so a
// connection keeps exactly 2^bits bytes per direction that takes over context.
type window struct {
	buf  []byte
	size int
	pos  int  // where the next byte goes
	full bool // buf holds size valid bytes
}

func (w *window) write(p []byte) {
	if len(p) == 0 {
		return
	}
	if w.buf == nil {
		w.buf = make([]byte, w.size)
	}
	if len(p) >= w.size {
		copy(w.buf, p[len(p)-w.size:])
		w.pos, w.full = 0, true
		return
	}
	n := copy(w.buf[w.pos:], p)
	if n < len(p) {
		w.pos = copy(w.buf, p[n:])
		w.full = true
		return
	}
	w.pos += n
	if w.pos == w.size {
		w.pos, w.full = 0, true
	}
}

// appendTo appends the window's bytes, oldest first.
func (w *window) appendTo(dst []byte) []byte {
	if !w.full {
		return append(dst, w.buf[:w.pos]...)
	}
	dst = append(dst, w.buf[w.pos:]...)
	return append(dst, w.buf[:w.pos]...)
}

func (w *window) len() int {
	if w.full {
		return w.size
	}
	return w.pos
}
