//go:build !unix

package websocket

// attachPoller does nothing where descriptors cannot be read directly: the
// reader reads through net.Conn and holds its buffer only while a read is
// blocked.
func (b *connReader) attachPoller() {}
