package hub

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Position is where a message stands in the history of its topic: an
// epoch, which changes when the history is lost (a restarted server, a
// recreated stream), and a sequence number that grows with every message
// of the topic within the epoch. The sequence numbers of one topic grow but
// need not be consecutive: through natsbroker they are the JetStream
// stream's, shared by all its topics. The zero Position is "no position".
type Position struct {
	// Epoch names the history the sequence belongs to: letters and digits.
	Epoch string
	// Seq is the message's number; 0 stands before the first message.
	Seq uint64
}

// ErrBadPosition is wrapped by the error of [ParsePosition] for a string
// that is not a position.
var ErrBadPosition = errors.New("hub: bad position")

// IsZero reports whether p is the zero Position.
func (p Position) IsZero() bool { return p == Position{} }

// String returns p as "EPOCH:SEQ", the form ParsePosition reads, or "" for
// the zero Position.
func (p Position) String() string {
	if p.IsZero() {
		return ""
	}
	return p.Epoch + ":" + strconv.FormatUint(p.Seq, 10)
}

// ParsePosition reads a position written by [Position.String]: "EPOCH:SEQ",
// where EPOCH is 1 to 64 ASCII letters and digits and SEQ a decimal
// number. The empty string is the zero Position.
func ParsePosition(s string) (Position, error) {
	if s == "" {
		return Position{}, nil
	}
	epoch, seq, ok := strings.Cut(s, ":")
	if !ok {
		return Position{}, fmt.Errorf("%w %q: want EPOCH:SEQ", ErrBadPosition, s)
	}
	if epoch == "" || len(epoch) > 64 {
		return Position{}, fmt.Errorf("%w %q: the epoch has %d characters, want 1 to 64", ErrBadPosition, s, len(epoch))
	}
	for i := 0; i < len(epoch); i++ {
		c := epoch[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return Position{}, fmt.Errorf("%w %q: the epoch has the character %q; want letters and digits", ErrBadPosition, s, c)
		}
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("%w %q: the sequence is not a decimal number", ErrBadPosition, s)
	}
	return Position{Epoch: epoch, Seq: n}, nil
}
