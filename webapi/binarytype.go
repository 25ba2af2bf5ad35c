package webapi

import "bytes"

// BinaryType says in which Go form a MessageEvent carries a binary message,
// the binaryType attribute of the Web platform's WebSocket.
type BinaryType string

// The two binary types of the Web platform, with their Go meaning.
const (
	// BinaryBlob, the default, delivers a binary message as a *Blob: an
	// immutable value that no one can change, so it can be handed to other
	// goroutines and kept without a copy.
	BinaryBlob BinaryType = "blob"
	// BinaryArrayBuffer delivers a binary message as a []byte that belongs to
	// the receiver, to modify or retain as it likes.
	BinaryArrayBuffer BinaryType = "arraybuffer"
)

// Blob is a binary message delivered with BinaryType BinaryBlob, the Go
// counterpart of the Web platform's Blob: read-only raw data. Its methods are
// safe to call from any goroutine.
type Blob struct {
	data []byte
}

// Size returns the length of the data in bytes.
func (b *Blob) Size() int64 { return int64(len(b.data)) }

// Bytes returns a copy of the data, as blob.arrayBuffer() does.
func (b *Blob) Bytes() []byte { return bytes.Clone(b.data) }

// Text returns the data decoded as UTF-8, each invalid byte replaced by
// U+FFFD, as blob.text() does.
func (b *Blob) Text() string { return usvString(string(b.data)) }

// NewReader returns a reader of the data.
func (b *Blob) NewReader() *bytes.Reader { return bytes.NewReader(b.data) }
