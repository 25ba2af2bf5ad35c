//go:build !unix

package websocket

// attachPoller does nothing where descriptors cannot be read directly: the
// reader reads through net.Conn and holds its buffer only while a read is
// blocked.
func (b *connReader) attachPoller() {}

// readNow reads as fill does: without descriptors there is no event mode,
// and the engine serves every connection from a goroutine.
func (b *connReader) readNow() error { return b.fill() }
