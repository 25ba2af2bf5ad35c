//go:build unix

package netpoll

import (
	"io"
	"net"
	"os"
	"syscall"

	"github.com/duplexws/websocket/internal/wsconn"
)

// RawIO reads and writes a connection's descriptor through net's
// syscall.RawConn, with the raw calls of this package (Read, Write): a
// read or a write that would block waits in the runtime's poller, and a
// read that waits for bytes into a pooled buffer holds none while it
// waits (ReadBorrowed). It is how a WebSocket read by a goroutine of its
// own reads and writes its socket.
//
// One read and one write may be under way at a time, each half of the
// struct being used by one of them: a WebSocket's read lock and frame lock
// ensure it. A RawIO allocates nothing per call: the functions it hands
// the RawConn are bound by its first read and its first write and kept.
type RawIO struct {
	raw syscall.RawConn

	// The reading half: rfn is rawRead, which reads into dst, or into buf,
	// borrowed for the read, when dst is nil, and leaves in n and rerr what
	// the read returned. n and rerr are int32s, which a read capped at
	// maxRW and an errno fit, so that RawIO keeps within 128 bytes.
	rfn  func(fd uintptr) bool
	dst  []byte
	buf  *[]byte
	n    int32
	rerr int32

	// The writing half: wfn is writeFD; wv is what is left of the frame
	// being written, werr writeFD's errno, or werrNow while WriteVecNow
	// writes (then writeFD does not wait). size, of the buffers
	// ReadBorrowed borrows, fills what would be padding.
	wfn  func(fd uintptr) bool
	wv   [2][]byte
	werr int32
	size int32
}

// maxRW bounds one read or write system call, as the runtime's own poller
// does (internal/poll): some systems refuse a count past 2 GiB.
const maxRW = 1 << 30

// NewRawIO returns a RawIO for nc, whose borrowed reads borrow buffers of
// size bytes, or nil when nc has no descriptor to read and write (TLS,
// in-memory pipes).
func NewRawIO(nc net.Conn, size int) *RawIO {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return &RawIO{raw: raw, size: int32(min(size, maxRW))}
}

// Read reads into p, waiting in the runtime's poller
// until the descriptor has bytes or its end. It returns io.EOF at the
// peer's end.
func (r *RawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.dst = p[:min(len(p), maxRW)]
	n, err := r.read()
	r.dst = nil
	return n, err
}

// ReadBorrowed waits, holding no buffer, until the descriptor has bytes or
// its end, then reads them into a buffer it borrows for them from
// wsconn's pool (wsconn.GetBuffer, its length set to its capacity). It
// returns the buffer and the number of bytes read into it, or nil, 0 and
// an error (io.EOF at the peer's end): the buffer goes back to the pool
// whenever no bytes came.
func (r *RawIO) ReadBorrowed() (*[]byte, int, error) {
	n, err := r.read()
	buf := r.buf
	r.buf = nil
	return buf, n, err
}

// read has the RawConn call rawRead until the descriptor has given bytes,
// its end or an error.
func (r *RawIO) read() (int, error) {
	if r.rfn == nil {
		r.rfn = r.rawRead
	}
	r.n, r.rerr = 0, 0
	err := r.raw.Read(r.rfn)
	switch {
	case err != nil:
		return 0, err
	case r.rerr != 0:
		return 0, os.NewSyscallError("read", syscall.Errno(r.rerr))
	case r.n == 0:
		return 0, io.EOF
	}
	return int(r.n), nil
}

// rawRead is called by the runtime's poller when the descriptor may be
// readable. Without a dst it borrows the buffer for the read and gives it
// back when nothing came, so that the wait that follows holds none.
func (r *RawIO) rawRead(fd uintptr) bool {
	p := r.dst
	if p == nil {
		r.buf = wsconn.GetBuffer(int(r.size))
		*r.buf = (*r.buf)[:cap(*r.buf)]
		p = *r.buf
	}
	for {
		n, err := Read(fd, p)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			r.putBuffer()
			return false
		}
		r.n, r.rerr = int32(max(n, 0)), int32(err)
		if r.n == 0 {
			r.putBuffer()
		}
		return true
	}
}

// putBuffer gives the buffer a borrowed read borrowed back, if any.
func (r *RawIO) putBuffer() {
	if r.buf != nil {
		wsconn.PutBuffer(r.buf)
		r.buf = nil
	}
}

// WriteVec writes hdr and then p, either of which may be empty, whole, in
// as few system calls as the socket allows (one sendmsg on Linux), waiting
// in the runtime's poller while the socket's buffer is full.
func (r *RawIO) WriteVec(hdr, p []byte) error {
	if r.wfn == nil {
		r.wfn = r.writeFD
	}
	r.wv = [2][]byte{hdr, p}
	err := r.raw.Write(r.wfn)
	left := len(r.wv[0]) + len(r.wv[1])
	r.wv = [2][]byte{}
	switch {
	case err != nil:
		return err
	case r.werr != 0:
		err, r.werr = os.NewSyscallError("write", syscall.Errno(r.werr)), 0
		return err
	case left > 0:
		return io.ErrShortWrite
	}
	return nil
}

// werrNow in RawIO.werr tells writeFD that WriteVecNow called it: no errno
// is negative.
const werrNow = -1

// WriteVecNow writes what the socket takes at once of hdr and then p,
// without waiting: it returns how many of their bytes went out, 0 with no
// error when the socket's send buffer is full.
func (r *RawIO) WriteVecNow(hdr, p []byte) (int, error) {
	if r.wfn == nil {
		r.wfn = r.writeFD
	}
	r.wv = [2][]byte{hdr, p}
	r.werr = werrNow
	err := r.raw.Write(r.wfn)
	n := len(hdr) + len(p) - len(r.wv[0]) - len(r.wv[1])
	werr := r.werr
	r.wv, r.werr = [2][]byte{}, 0
	switch {
	case err != nil:
		return n, err
	case werr != werrNow:
		return n, os.NewSyscallError("write", syscall.Errno(werr))
	}
	return n, nil
}

// writeFD is WriteVec's write, called by the runtime's poller: it writes
// what is left of the frame, and asks the poller to wait when the socket
// takes no more, unless WriteVecNow called it.
func (r *RawIO) writeFD(fd uintptr) bool {
	for len(r.wv[0])+len(r.wv[1]) > 0 {
		hdr, p := r.wv[0][:min(len(r.wv[0]), maxRW)], r.wv[1]
		p = p[:min(len(p), maxRW-len(hdr))]
		n, err := Write(fd, hdr, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return r.werr == werrNow
		case err != 0:
			r.werr = int32(err)
			return true
		case n == 0:
			return true // WriteVec reports the short write
		}
		k := min(n, len(r.wv[0]))
		r.wv[0], r.wv[1] = r.wv[0][k:], r.wv[1][n-k:]
	}
	return true
}
