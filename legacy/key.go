package legacy

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// errKey is wrapped by every error about a malformed Sec-WebSocket-Key1/Key2
// value, so the server can tell a bad key from other failures.
var errKey = errors.New("bad hixie-76 key")

// parseKey returns the 32-bit number a Sec-WebSocket-Key1 or
// Sec-WebSocket-Key2 value stands for: its digits read as one decimal number,
// divided by the number of spaces in it. The draft (section 5.2) requires at
// least one space and an exact division; digits worth more than 2^32-1 cannot
// come from a conforming client and are refused too.
func parseKey(key string) (uint32, error) {
	var digits strings.Builder
	spaces := 0
	for i := 0; i < len(key); i++ {
		switch b := key[i]; {
		case b >= '0' && b <= '9':
			digits.WriteByte(b)
		case b == ' ':
			spaces++
		}
	}
	if digits.Len() == 0 {
		return 0, fmt.Errorf("%w: the key has no digits", errKey)
	}
	if spaces == 0 {
		return 0, fmt.Errorf("%w: the key has no spaces", errKey)
	}
	n, err := strconv.ParseUint(digits.String(), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: the key's digits %.20s… exceed 4294967295", errKey, digits.String())
	}
	if n%uint64(spaces) != 0 {
		return 0, fmt.Errorf("%w: the key's number %d is not a multiple of its %d spaces", errKey, n, spaces)
	}
	return uint32(n / uint64(spaces)), nil
}

// challengeAnswer is the 16 bytes a server sends after its handshake headers:
// the MD5 digest of both key numbers as big-endian 32-bit integers followed
// by the 8 bytes the client sent after its headers.
func challengeAnswer(n1, n2 uint32, key3 []byte) [16]byte {
	var challenge [16]byte
	binary.BigEndian.PutUint32(challenge[0:4], n1)
	binary.BigEndian.PutUint32(challenge[4:8], n2)
	copy(challenge[8:], key3)
	return md5.Sum(challenge[:])
}

// keyNoise holds the characters a client scatters through its keys
// (U+0021–U+002F and U+003A–U+007E: printable, neither digits nor spaces).
const keyNoise = "!\"#$%&'()*+,-./:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"

// newKey makes a Sec-WebSocket-Key1/Key2 value the way the draft's client
// does (section 4.1): a random number times 1 to 12 spaces, written in decimal,
// with 1 to 12 noise characters inserted anywhere and the spaces inserted
// anywhere but at either end. It returns the value and the number the server
// will find in it.
func newKey(r *rand.Rand) (string, uint32) {
	spaces := 1 + r.IntN(12)
	limit := uint64(0xFFFFFFFF / spaces)
	number := uint32(r.Uint64N(limit + 1))
	key := []byte(strconv.FormatUint(uint64(number)*uint64(spaces), 10))
	for range 1 + r.IntN(12) {
		at := r.IntN(len(key) + 1)
		key = insertByte(key, at, keyNoise[r.IntN(len(keyNoise))])
	}
	for range spaces {
		at := 1 + r.IntN(len(key)-1)
		key = insertByte(key, at, ' ')
	}
	return string(key), number
}

func insertByte(s []byte, at int, b byte) []byte {
	s = append(s, 0)
	copy(s[at+1:], s[at:])
	s[at] = b
	return s
}
