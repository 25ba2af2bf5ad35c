//go:build unix

package main

import (
	"os"
	"syscall"
)

// signalGroup sends sig to the process group led by pid.
func signalGroup(pid int, sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		syscall.Kill(-pid, s)
	}
}
