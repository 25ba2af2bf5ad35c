//go:build !unix

package netpoll

import (
	"errors"
	"net"
)

// RawIO is never made where descriptors are not read directly: a
// connection reads through its net.Conn and holds its buffer only while a
// read is blocked.
type RawIO struct{}

// errNoRawIO is what the methods of a RawIO, which is never made here,
// would return.
var errNoRawIO = errors.New("netpoll: no raw descriptor I/O on this system")

// NewRawIO returns nil: descriptors are not read directly here.
func NewRawIO(nc net.Conn, size int) *RawIO { return nil }

// Read is never called: NewRawIO makes no RawIO here.
func (r *RawIO) Read(p []byte) (int, error) { return 0, errNoRawIO }

// ReadBorrowed is never called: NewRawIO makes no RawIO here.
func (r *RawIO) ReadBorrowed() (*[]byte, int, error) { return nil, 0, errNoRawIO }

// WriteVec is never called: NewRawIO makes no RawIO here.
func (r *RawIO) WriteVec(hdr, p []byte) error { return errNoRawIO }

// WriteVecNow is never called: NewRawIO makes no RawIO here.
func (r *RawIO) WriteVecNow(hdr, p []byte) (int, error) { return 0, errNoRawIO }
