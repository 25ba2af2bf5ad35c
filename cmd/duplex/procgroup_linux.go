package main

import (
	"os/exec"
	"syscall"
)

// inOwnGroup makes cmd start a process group of its own, so that what it
// starts in turn can be stopped with it, and has the kernel kill it should
// duplex itself die without stopping it.
func inOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
