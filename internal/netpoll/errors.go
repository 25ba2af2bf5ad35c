package netpoll

import "syscall"

// ErrEmpty is what a read that never waits (Conn.ReadNow) returns when the
// socket holds nothing to read: syscall.EAGAIN, so that errors.Is matches
// either.
var ErrEmpty error = syscall.EAGAIN
