package pmdeflate

import (
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Compressors are large (0.8 to 1.4 MB each), so no connection keeps one:
// they are borrowed for one message. A full 32 KiB window uses the level's
// compressor; a smaller window uses klauspost's custom-window compressor,
// whose matches never reach farther than the window (one pool per size).
var (
	levelWriters   [10]sync.Pool            // index: level 1..9
	windowWriters  [MaxWindowBits]sync.Pool // index: window bits 8..14
	messageWriters = sync.Pool{New: func() any { return new(Writer) }}
	messageReaders = sync.Pool{New: func() any { return newReader() }}
)

// getFlateWriter returns a compressor for level and bits writing to dst,
// primed with dict.
func getFlateWriter(dst io.Writer, level, bits int, dict []byte) *flate.Writer {
	pool := &levelWriters[level]
	if bits < MaxWindowBits {
		pool = &windowWriters[bits]
	}
	if fw, ok := pool.Get().(*flate.Writer); ok {
		fw.ResetDict(dst, dict)
		return fw
	}
	var fw *flate.Writer
	var err error
	if bits < MaxWindowBits {
		fw, err = flate.NewWriterWindow(dst, 1<<bits)
	} else {
		fw, err = flate.NewWriter(dst, level)
	}
	if err != nil {
		// Levels and bits are checked by NewState and Compress.
		panic("pmdeflate: " + err.Error())
	}
	if len(dict) > 0 {
		fw.ResetDict(dst, dict)
	}
	return fw
}

func putFlateWriter(fw *flate.Writer, level, bits int) {
	fw.ResetDict(nil, nil) // drop references to the caller's writer and dictionary
	if bits < MaxWindowBits {
		windowWriters[bits].Put(fw)
		return
	}
	levelWriters[level].Put(fw)
}
