//go:build !unix

package websocket

// rawIO is empty where descriptors cannot be read directly: the reader
// reads through net.Conn and holds its buffer only while a read is blocked.
type rawIO struct{}

// attachPoller does nothing where descriptors cannot be read directly.
func (b *connReader) attachPoller() {}

// fillFD reports that there is no descriptor to fill the buffer from.
func (b *connReader) fillFD() (bool, error) { return false, nil }

// readNow reads as fill does: without descriptors there is no event mode,
// and the engine serves every connection from a goroutine.
func (b *connReader) readNow() error { return b.fill() }

// readDirect reads into p straight from the connection.
func (b *connReader) readDirect(p []byte) (int, error) { return b.nc.Read(p) }
