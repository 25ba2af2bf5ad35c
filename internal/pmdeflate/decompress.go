package pmdeflate

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
)

// ErrTooLarge is returned by Reader when a message inflates to more than the
// limit it was given; the core closes the connection with 1009.
var ErrTooLarge = errors.New("decompressed message exceeds the size limit")

// ErrCorrupt is wrapped by the error Reader returns for a payload that is not
// valid deflate data; the connection must be failed (RFC 7692 §8).
var ErrCorrupt = errors.New("invalid compressed message")

// inflateTail completes a message payload for the inflater: the 00 00 ff ff
// the sender removed (RFC 7692 §7.2.2), then an empty final stored block so
// that the inflater ends with io.EOF instead of waiting for more.
var inflateTail = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// Reader decompresses one message. It comes from State.Reader and must be
// closed; it must not be used after Close.
type Reader struct {
	st    *State
	fr    io.ReadCloser // klauspost inflater, also a flate.Resetter
	br    *bufio.Reader
	src   tailSource
	dict  []byte
	n     int64
	limit int64
	err   error
	drain [512]byte
}

func newReader() any {
	r := &Reader{}
	r.br = bufio.NewReaderSize(&r.src, 4096)
	r.fr = flate.NewReader(r.br)
	return r
}

// Reader starts decompressing a message whose compressed payload src yields
// until io.EOF. At most limit decompressed bytes are delivered (limit < 0: no
// limit); one more makes Read return ErrTooLarge. Errors from src are
// returned as they are.
func (st *State) Reader(src io.Reader, limit int64) *Reader {
	r := messageReaders.Get().(*Reader)
	r.st, r.n, r.limit, r.err = st, 0, limit, nil
	r.src = tailSource{r: src}
	r.br.Reset(&r.src)
	r.dict = r.dict[:0]
	if st.in.takeover {
		r.dict = st.in.hist.appendTail(r.dict, st.in.hist.size)
	}
	// Reset copies the dictionary into the inflater's own window.
	if err := r.fr.(flate.Resetter).Reset(r.br, r.dict); err != nil {
		r.err = err
	}
	return r
}

// Read delivers decompressed bytes, then io.EOF at the end of the message.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.limit >= 0 {
		// Ask for at most one byte past the limit: enough to tell.
		if room := r.limit - r.n + 1; int64(len(p)) > room {
			p = p[:room]
		}
	}
	n, err := r.fr.Read(p)
	if r.limit >= 0 && r.n+int64(n) > r.limit {
		n = int(r.limit - r.n)
		err = ErrTooLarge
	}
	if r.st.in.takeover {
		r.st.in.hist.write(p[:n])
	}
	r.n += int64(n)
	switch {
	case err == nil:
	case err == io.EOF, errors.Is(err, ErrTooLarge):
		r.err = err
	case r.src.err != nil:
		r.err = r.src.err
	default:
		r.err = fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return n, r.err
}

// Close ends the message and returns the inflater to its pool. Under context
// takeover the rest of an unread message is decompressed first, since the
// next message may refer back to it; the error of that is returned.
func (r *Reader) Close() error {
	var err error
	if r.st.in.takeover {
		for r.err == nil {
			_, _ = r.Read(r.drain[:])
		}
		if r.err != io.EOF {
			err = r.err
		}
	}
	r.st, r.src = nil, tailSource{}
	r.br.Reset(&r.src)
	messageReaders.Put(r)
	return err
}

// tailSource yields the message payload and then inflateTail.
type tailSource struct {
	r    io.Reader
	done bool
	some bool // r yielded at least one byte
	off  int
	err  error // a non-EOF error from r
}

func (t *tailSource) Read(p []byte) (int, error) {
	if !t.done {
		if t.r == nil {
			return 0, io.EOF
		}
		n, err := t.r.Read(p)
		t.some = t.some || n > 0
		switch {
		case err == io.EOF:
			t.done = true
			if !t.some {
				// An empty payload is taken as the empty message: only
				// the final block is added.
				t.off = len(syncTail)
			}
		case err != nil:
			t.err = err
			return n, err
		}
		if n > 0 || !t.done {
			return n, nil
		}
	}
	if t.off == len(inflateTail) {
		return 0, io.EOF
	}
	n := copy(p, inflateTail[t.off:])
	t.off += n
	return n, nil
}
