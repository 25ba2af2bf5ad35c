//go:build unix

package netpoll

import (
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
)

// TestRawSyscallsInEveryBuild checks that on Linux (but 386) every build,
// race builds included, reads and writes sockets with the raw calls that
// production uses, so that the race detector sees the code that runs.
func TestRawSyscallsInEveryBuild(t *testing.T) {
	if runtime.GOOS == "linux" && runtime.GOARCH != "386" && !RawSyscalls {
		t.Fatalf("this %s/%s build does not use the raw system calls", runtime.GOOS, runtime.GOARCH)
	}
}

// TestReadWrite writes a header and a payload in one call and reads them
// back, from a socket and from a descriptor that is no socket (a pipe);
// an empty non-blocking socket says EAGAIN.
func TestReadWrite(t *testing.T) {
	sp, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	var pp [2]int
	if err := syscall.Pipe(pp[:]); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		r, w int
	}{{"socket", sp[0], sp[1]}, {"pipe", pp[0], pp[1]}} {
		t.Run(tc.name, func(t *testing.T) {
			defer syscall.Close(tc.r)
			defer syscall.Close(tc.w)
			syscall.SetNonblock(tc.r, true)
			var got []byte
			for _, v := range [][2]string{{"head", "payload"}, {"", "only"}, {"alone", ""}} {
				n, e := Write(uintptr(tc.w), []byte(v[0]), []byte(v[1]))
				if e != 0 || n < len(v[0]) {
					t.Fatalf("Write: %d, %v", n, e)
				}
				// A descriptor that is no socket takes one slice a call.
				if rest := len(v[0]) + len(v[1]) - n; rest > 0 {
					if m, e := Write(uintptr(tc.w), nil, []byte(v[1][len(v[1])-rest:])); e != 0 || m != rest {
						t.Fatalf("Write of the rest: %d, %v", m, e)
					}
				}
			}
			buf := make([]byte, 64)
			for len(got) < len("headpayloadonlyalone") {
				n, e := Read(uintptr(tc.r), buf)
				if e != 0 {
					t.Fatalf("Read: %v", e)
				}
				got = append(got, buf[:n]...)
			}
			if string(got) != "headpayloadonlyalone" {
				t.Fatalf("read %q", got)
			}
			if _, e := Read(uintptr(tc.r), buf); e != syscall.EAGAIN {
				t.Fatalf("Read of an empty descriptor: %v, want EAGAIN", e)
			}
		})
	}
}

// TestDescriptorsExhausted checks that running out of descriptors, the
// process's or the system's, is told apart from other failures, wrapped or
// not.
func TestDescriptorsExhausted(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{syscall.EMFILE, true},
		{&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.ENFILE)}, true},
		{syscall.ECONNRESET, false},
		{nil, false},
	} {
		if got := DescriptorsExhausted(tc.err); got != tc.want {
			t.Errorf("DescriptorsExhausted(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
