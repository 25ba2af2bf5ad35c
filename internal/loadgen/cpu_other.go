//go:build !unix

package loadgen

import "time"

// CPUTime returns the CPU time this process has used where the system tells
// it; here it does not, and CPUTime returns 0.
func CPUTime() time.Duration { return 0 }
