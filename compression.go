package websocket

import (
	"io"
	"net/http"
)

// CompressionOptions enables permessage-deflate (RFC 7692) and sets its
// parameters. A nil *CompressionOptions in AcceptOptions or DialOptions turns
// compression off; a zero value enables it with the defaults below.
type CompressionOptions struct {
	// ServerNoContextTakeover makes the server compress every message on its own.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover makes the client compress every message on its own.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits limits the server's LZ77 window to 2^bits bytes (8–15).
	// Zero leaves it at 15.
	ServerMaxWindowBits int
	// ClientMaxWindowBits limits the client's window (8–15). Zero leaves it at 15.
	ClientMaxWindowBits int
	// Level is the flate compression level (1–9). Zero means 1, the fastest.
	Level int
	// Threshold is the size below which a message is sent uncompressed: 128
	// bytes when zero; -1 compresses every message.
	Threshold int
}

// compression is the permessage-deflate state of one connection.
type compression struct{}

func compressionOffer(*CompressionOptions) string { return "" }

func acceptCompression(http.Header, *CompressionOptions) (*compression, string) { return nil, "" }

func dialCompression(http.Header, *CompressionOptions) (*compression, error) { return nil, nil }

func (*compression) reader(io.Reader) io.Reader         { return nil }
func (*compression) readerDone(io.Reader)               {}
func (*compression) worthCompressing(int) bool          { return false }
func (*compression) appendMessage(dst, p []byte) []byte { return nil }
func (*compression) writer(io.Writer) io.WriteCloser    { return nil }
func (*compression) sharable() bool                     { return false }
func (*compression) variant() frameVariant              { return frameVariant{} }
