//go:build unix

package websocket

import (
	"io"
	"os"
	"syscall"
)

// writeFull writes hdr and then p, which may be empty, whole; the caller
// holds frameLock. Where the reader reads the descriptor (attachPoller), the
// writer writes it too, with sysWrite, and waits through the transport's
// poller while the socket's buffer is full; elsewhere it writes through
// net.Conn.
func (c *Conn) writeFull(hdr, p []byte) error {
	raw := c.br.raw
	if raw == nil {
		return c.writeNet(hdr, p)
	}
	if c.wfn == nil {
		c.wfn = c.writeFD
	}
	c.wv = [2][]byte{hdr, p}
	err := raw.Write(c.wfn)
	left := len(c.wv[0]) + len(c.wv[1])
	c.wv = [2][]byte{}
	switch {
	case err != nil:
		return err
	case c.werr != 0:
		err, c.werr = os.NewSyscallError("write", syscall.Errno(c.werr)), 0
		return err
	case left > 0:
		return io.ErrShortWrite
	}
	return nil
}

// writeFD is writeFull's write on the descriptor, called by the poller: it
// writes what is left of c.wv, and asks the poller to wait when the socket
// takes no more.
func (c *Conn) writeFD(fd uintptr) bool {
	for len(c.wv[0])+len(c.wv[1]) > 0 {
		n, err := sysWrite(fd, c.wv[0], c.wv[1])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false
		case err != 0:
			c.werr = int32(err)
			return true
		case n == 0:
			return true // writeFull reports the short write
		}
		k := min(n, len(c.wv[0]))
		c.wv[0], c.wv[1] = c.wv[0][k:], c.wv[1][n-k:]
	}
	return true
}
