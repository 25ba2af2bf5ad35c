//go:build !unix

package websocket

// writeFull writes hdr and then p, which may be empty, whole through
// net.Conn; the caller holds frameLock.
func (c *Conn) writeFull(hdr, p []byte) error { return c.writeNet(hdr, p) }
