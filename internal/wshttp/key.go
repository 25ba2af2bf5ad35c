package wshttp

import (
	"crypto/sha1"
	"encoding/base64"
)

// keyGUID is appended to Sec-WebSocket-Key to compute Sec-WebSocket-Accept (RFC 6455 §1.3).
const keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
func AcceptKey(key string) string {
	return string(AppendAcceptKey(nil, key))
}

// AppendAcceptKey appends the Sec-WebSocket-Accept value for a
// Sec-WebSocket-Key to dst. A key of the usual length (24 characters) is
// hashed from a buffer on the stack: the answer allocates nothing.
func AppendAcceptKey(dst []byte, key string) []byte {
	var in [24 + len(keyGUID)]byte
	sum := sha1.Sum(append(append(in[:0], key...), keyGUID...))
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}
