//go:build race && linux && !386

package netpoll

import (
	"runtime"
	"unsafe"
)

// ioSync is what the race detector is told a socket's write releases and
// its read acquires, as the syscall package tells it of its own ioSync: the
// bytes a write sends carry what the writer did before to the reader that
// receives them, through the kernel, where the detector cannot see. It is
// a token whose address alone is used; nothing reads or writes it.
var ioSync int64

// raceWriteStart tells the race detector that a raw write reads hdr and p
// and releases what its goroutine did before.
func raceWriteStart(hdr, p []byte) {
	runtime.RaceReleaseMerge(unsafe.Pointer(&ioSync))
	for _, b := range [2][]byte{hdr, p} {
		if len(b) > 0 {
			runtime.RaceReadRange(unsafe.Pointer(&b[0]), len(b))
		}
	}
}

// raceReadDone tells the race detector that a raw read wrote p and
// acquires what the writers of its bytes did before.
func raceReadDone(p []byte) {
	if len(p) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&p[0]), len(p))
	}
	runtime.RaceAcquire(unsafe.Pointer(&ioSync))
}
