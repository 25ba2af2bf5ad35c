//go:build unix && !linux

package main

import (
	"os/exec"
	"syscall"
)

// inOwnGroup makes cmd start a process group of its own, so that what it
// starts in turn can be stopped with it.
func inOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
