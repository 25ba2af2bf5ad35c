// Package topicname holds the rule for hub topic names, which package hub
// and the NATS broker both apply: a name the hub accepts must be a plain
// NATS subject too.
package topicname

import (
	"errors"
	"fmt"
)

// ErrBad is returned for a topic name the hub does not accept; package hub
// exports it as hub.ErrBadTopic.
var ErrBad = errors.New("hub: bad topic name")

// maxLen bounds the length of a topic name in bytes.
const maxLen = 255

// Check returns nil if name is a valid topic, else an error wrapping ErrBad
// that says what is wrong. A topic is 1 to 255 bytes of tokens separated by
// single dots ("chat.lobby"); a token is made of ASCII letters, digits and
// the characters - _ : (so that every broker, NATS included, can carry it
// as it is, with no wildcard meaning).
func Check(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrBad)
	}
	if len(name) > maxLen {
		return fmt.Errorf("%w: %d bytes long, the limit is %d", ErrBad, len(name), maxLen)
	}
	tokenStart := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			if tokenStart {
				return fmt.Errorf("%w: %q has an empty token at byte %d", ErrBad, name, i)
			}
			tokenStart = true
			continue
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == ':':
		default:
			return fmt.Errorf("%w: %q has the character %q at byte %d", ErrBad, name, c, i)
		}
		tokenStart = false
	}
	if tokenStart {
		return fmt.Errorf("%w: %q ends with a dot", ErrBad, name)
	}
	return nil
}
