//go:build unix

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// inOwnGroup makes cmd start a process group of its own, so that what it
// starts in turn can be stopped with it.
func inOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup sends sig to the process group led by pid.
func signalGroup(pid int, sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		syscall.Kill(-pid, s)
	}
}
