//go:build !unix

package main

import (
	"os"
	"os/exec"
)

// inOwnGroup does nothing where there are no Unix process groups.
func inOwnGroup(*exec.Cmd) {}

// signalGroup sends sig to the process pid alone, where there are no Unix
// process groups.
func signalGroup(pid int, sig os.Signal) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Signal(sig)
	}
}
