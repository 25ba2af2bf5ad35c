package bench

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs a benchmark server instead of the tests when the process was
// started as one (see startServer).
func TestMain(m *testing.M) {
	if lib := os.Getenv(envServer); lib != "" {
		if err := serveChild(lib, compressMode(os.Getenv(envCompress)), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "bench server %s: %v\n", lib, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
