package hub

import (
	"errors"
	"fmt"
)

// ErrBadTopic is returned for a topic name the hub does not accept.
var ErrBadTopic = errors.New("hub: bad topic name")

// maxTopicLen bounds the length of a topic name in bytes.
const maxTopicLen = 255

// CheckTopic returns nil if name is a valid topic, else an error wrapping
// ErrBadTopic that says what is wrong. A topic is 1 to 255 bytes of tokens
// separated by single dots ("chat.lobby"); a token is made of ASCII letters,
// digits and the characters - _ : (so that every broker, NATS included, can
// carry it as it is, with no wildcard meaning).
func CheckTopic(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrBadTopic)
	}
	if len(name) > maxTopicLen {
		return fmt.Errorf("%w: %d bytes long, the limit is %d", ErrBadTopic, len(name), maxTopicLen)
	}
	tokenStart := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			if tokenStart {
				return fmt.Errorf("%w: %q has an empty token at byte %d", ErrBadTopic, name, i)
			}
			tokenStart = true
			continue
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == ':':
		default:
			return fmt.Errorf("%w: %q has the character %q at byte %d", ErrBadTopic, name, c, i)
		}
		tokenStart = false
	}
	if tokenStart {
		return fmt.Errorf("%w: %q ends with a dot", ErrBadTopic, name)
	}
	return nil
}
