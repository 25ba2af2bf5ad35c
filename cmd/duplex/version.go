package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// versionString describes this build: the module version (or "(devel)"), the
// VCS revision when the binary was built from a checkout, and the Go version.
func versionString() string {
	v, rev := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	return fmt.Sprintf("duplex %s%s %s", v, rev, runtime.Version())
}
