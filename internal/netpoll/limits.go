package netpoll

import (
	"errors"
	"syscall"
)

// DescriptorsExhausted reports whether err says that the process or the
// system ran out of file descriptors.
func DescriptorsExhausted(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}
