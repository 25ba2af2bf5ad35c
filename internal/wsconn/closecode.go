package wsconn

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxCloseReason is the longest close reason: a control frame carries at
// most 125 bytes, two of which hold the code (RFC 6455 §5.5.1).
const MaxCloseReason = 123

// ValidWireCode reports whether code may appear in a close frame on the
// wire (RFC 6455 §7.4): 1000–1003, 1007–1014 and the application ranges
// 3000–4999. 0–999, 1004–1006, 1015 and 1016–2999 are protocol errors.
func ValidWireCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// CheckCloseArgs checks the code and reason given to Close: a code that
// may be sent, and a reason of valid UTF-8 that fits in a close frame. The
// error does not name the package; callers prefix it.
func CheckCloseArgs(code int, reason string) error {
	if !ValidWireCode(code) {
		return fmt.Errorf("status code %d cannot be sent in a close frame", code)
	}
	if len(reason) > MaxCloseReason {
		return fmt.Errorf("close reason of %d bytes exceeds the limit of %d", len(reason), MaxCloseReason)
	}
	if !utf8.ValidString(reason) {
		return errors.New("close reason is not valid UTF-8")
	}
	return nil
}
