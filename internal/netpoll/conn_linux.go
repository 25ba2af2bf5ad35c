package netpoll

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/duplexws/websocket/internal/wsconn"
)

// Conn is the transport of a connection an engine serves on Linux: the
// connection's socket, taken over from its *net.TCPConn (Poller.Attach),
// with no runtime poller, no net.TCPConn and no addresses behind it. A read
// or write that would block waits for its Poller to report the socket
// readable or writable (the socket is registered once, edge-triggered, for
// both), so an idle connection costs the runtime nothing. While no call waits, it
// holds no timer, channel or buffer: a waiting call makes its channel, and
// a timer only when a deadline is set.
//
// It is a net.Conn whose deadlines behave as net.TCPConn's (a call past its
// deadline fails with os.ErrDeadlineExceeded, and moving the deadline
// wakes a waiting call to look again); a WebSocket's reader and writer use
// its ReadNow and WriteVec, which make raw system calls, so that neither
// binds a function for a RawConn. One read and one write may wait at a
// time, as the WebSocket's read and frame locks ensure. Close may come from any
// goroutine at any time: a reference count keeps the descriptor open until
// the last call using it has returned, so its number is never used once it
// may belong to another file.
type Conn struct {
	fd int32
	// ready has fdReadable or fdWritable set when epoll reported the
	// socket so since a waiting call last looked.
	ready atomic.Uint32
	// refs counts the calls using fd, two for each; bit 0 is set once
	// Close ran. The descriptor is closed when both say so.
	refs     atomic.Uint64
	rdl, wdl atomic.Int64 // read and write deadlines, Unix nanoseconds; 0 for none
	// rwait and wwait are the read and the write waiting for an event.
	rwait, wwait atomic.Pointer[fdWaiter]
	// raddr is the peer's IPv4 address and port, 1<<48 | ip<<16 | port; 0
	// for a peer that must be asked for its address (IPv6).
	raddr uint64
}

// fdWaiter is a call waiting for an event or a change of deadline.
type fdWaiter struct{ wake chan struct{} }

// Readiness that Conn.ready records.
const (
	fdReadable uint32 = 1 << iota
	fdWritable
)

// fdClosedErr is what a call on a closed Conn returns, as net.TCPConn's
// calls do.
var fdClosedErr = &net.OpError{Op: "use", Net: "tcp", Err: net.ErrClosed}

// init makes f the transport of the socket whose descriptor is fd, already
// non-blocking; remote is the peer's address.
func (f *Conn) init(fd int, remote net.Addr) {
	f.fd = int32(fd)
	if ta, ok := remote.(*net.TCPAddr); ok && ta.Zone == "" {
		if ip4 := ta.IP.To4(); ip4 != nil {
			f.raddr = packIPv4([4]byte(ip4), ta.Port)
		}
	}
}

// packIPv4 packs an IPv4 address and port as Conn.raddr holds them.
func packIPv4(ip [4]byte, port int) uint64 {
	return 1<<48 | uint64(binary.BigEndian.Uint32(ip[:]))<<16 | uint64(uint16(port))
}

// incref counts a call that uses the descriptor; it fails once Close ran.
func (f *Conn) incref() error {
	for {
		s := f.refs.Load()
		if s&1 != 0 {
			return fdClosedErr
		}
		if f.refs.CompareAndSwap(s, s+2) {
			return nil
		}
	}
}

// decref ends a call; the last one after Close closes the descriptor.
func (f *Conn) decref() {
	if f.refs.Add(^uint64(1)) == 1 {
		f.destroy()
	}
}

// destroy closes the descriptor, which takes it out of its Poller's epoll.
func (f *Conn) destroy() { unix.Close(int(f.fd)) }

// Close closes the connection. Calls waiting for an event return
// net.ErrClosed; the descriptor is closed when the last call in progress
// returns.
func (f *Conn) Close() error {
	for {
		s := f.refs.Load()
		if s&1 != 0 {
			return fdClosedErr
		}
		if f.refs.CompareAndSwap(s, s|1) {
			wake(&f.rwait)
			wake(&f.wwait)
			if s == 0 {
				f.destroy()
			}
			return nil
		}
	}
}

// CloseWrite shuts down the sending side of the socket.
func (f *Conn) CloseWrite() error {
	if err := f.incref(); err != nil {
		return err
	}
	defer f.decref()
	if err := unix.Shutdown(int(f.fd), unix.SHUT_WR); err != nil {
		return &net.OpError{Op: "close", Net: "tcp", Err: os.NewSyscallError("shutdown", err)}
	}
	return nil
}

// Notify records what epoll reported and wakes the calls waiting for it;
// the Poller's handler calls it with each event of f.
func (f *Conn) Notify(ev Events) {
	var bits uint32
	if ev.Readable() {
		bits |= fdReadable
	}
	if ev.writable() {
		bits |= fdWritable
	}
	f.ready.Or(bits)
	if bits&fdReadable != 0 {
		wake(&f.rwait)
	}
	if bits&fdWritable != 0 {
		wake(&f.wwait)
	}
}

// wake wakes the call waiting in w, if any.
func wake(w *atomic.Pointer[fdWaiter]) {
	if w := w.Load(); w != nil {
		select {
		case w.wake <- struct{}{}:
		default: // woken already
		}
	}
}

// expired returns os.ErrDeadlineExceeded when the deadline dl has passed.
func expired(dl *atomic.Int64) error {
	if d := dl.Load(); d != 0 && d <= time.Now().UnixNano() {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// await waits until epoll reports what bit says, the deadline passes or
// Close runs. The caller cleared bit before it last found the socket not
// ready, so an event since then returns at once.
func (f *Conn) await(bit uint32) error {
	wp, dl := &f.rwait, &f.rdl
	if bit == fdWritable {
		wp, dl = &f.wwait, &f.wdl
	}
	w := &fdWaiter{wake: make(chan struct{}, 1)}
	wp.Store(w)
	defer wp.Store(nil)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		// Each of these is stored before its waker loads wp, and loaded
		// after wp was stored: either the waker sees w or the load sees
		// the change.
		if f.ready.Load()&bit != 0 {
			return nil
		}
		if f.refs.Load()&1 != 0 {
			return fdClosedErr
		}
		var timeout <-chan time.Time
		if d := dl.Load(); d != 0 {
			left := time.Duration(d - time.Now().UnixNano())
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			if timer == nil {
				timer = time.NewTimer(left)
			} else {
				timer.Reset(left)
			}
			timeout = timer.C
		}
		select {
		case <-w.wake:
		case <-timeout:
		}
	}
}

// Read reads what the socket holds, waiting for its Poller when it
// holds nothing.
func (f *Conn) Read(p []byte) (int, error) {
	_, n, err := f.read(p, 0)
	return n, err
}

// ReadBorrowed is Read into a buffer of size bytes that it borrows from
// wsconn's pool for each read system call only, so that a wait for bytes
// holds no buffer. It returns the buffer with the n bytes read, or nil with
// an error.
func (f *Conn) ReadBorrowed(size int) (*[]byte, int, error) { return f.read(nil, size) }

// read is Read into p or, when p is nil, ReadBorrowed of size bytes.
func (f *Conn) read(p []byte, size int) (*[]byte, int, error) {
	if err := f.incref(); err != nil {
		return nil, 0, err
	}
	defer f.decref()
	for {
		if err := expired(&f.rdl); err != nil {
			return nil, 0, err
		}
		f.ready.And(^fdReadable)
		var buf *[]byte
		dst := p
		if dst == nil {
			buf = wsconn.GetBuffer(size)
			*buf = (*buf)[:cap(*buf)]
			dst = *buf
		}
		n, err := Read(uintptr(f.fd), dst)
		if buf != nil && (err != 0 || n == 0) {
			wsconn.PutBuffer(buf)
			buf = nil
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if err := f.await(fdReadable); err != nil {
				return nil, 0, err
			}
			continue
		case err != 0:
			return nil, 0, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
		case n == 0 && len(dst) > 0:
			return nil, 0, io.EOF
		}
		return buf, n, nil
	}
}

// Write writes all of p, waiting for its Poller whenever the
// socket's send buffer is full.
func (f *Conn) Write(p []byte) (int, error) {
	left, err := f.write(p, nil)
	return len(p) - left, err
}

// WriteVec writes hdr and then p, which may be empty, whole, in one system
// call while the socket takes them, waiting for its Poller whenever
// its send buffer is full.
func (f *Conn) WriteVec(hdr, p []byte) error {
	_, err := f.write(hdr, p)
	return err
}

// WriteVecNow writes what the socket takes at once of hdr and then p, in
// one system call, without waiting: it returns how many of their bytes
// went out, 0 with no error when the socket's send buffer is full.
func (f *Conn) WriteVecNow(hdr, p []byte) (int, error) {
	if err := f.incref(); err != nil {
		return 0, err
	}
	defer f.decref()
	if err := expired(&f.wdl); err != nil {
		return 0, err
	}
	for {
		n, err := Write(uintptr(f.fd), hdr, p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, nil
		case err != 0:
			return 0, &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", err)}
		}
		return n, nil
	}
}

// write writes hdr and then p, and returns how many of their bytes it did
// not write.
func (f *Conn) write(hdr, p []byte) (int, error) {
	if err := f.incref(); err != nil {
		return len(hdr) + len(p), err
	}
	defer f.decref()
	for len(hdr)+len(p) > 0 {
		if err := expired(&f.wdl); err != nil {
			return len(hdr) + len(p), err
		}
		f.ready.And(^fdWritable)
		n, err := Write(uintptr(f.fd), hdr, p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if err := f.await(fdWritable); err != nil {
				return len(hdr) + len(p), err
			}
			continue
		case err != 0:
			return len(hdr) + len(p), &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", err)}
		case n == 0:
			return len(hdr) + len(p), io.ErrUnexpectedEOF
		}
		k := min(n, len(hdr))
		hdr, p = hdr[k:], p[n-k:]
	}
	return 0, nil
}

// SetDeadline sets both deadlines.
func (f *Conn) SetDeadline(t time.Time) error {
	f.SetReadDeadline(t)
	return f.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline and wakes a waiting read to look
// at it.
func (f *Conn) SetReadDeadline(t time.Time) error {
	f.rdl.Store(deadlineNanos(t))
	wake(&f.rwait)
	return nil
}

// SetWriteDeadline sets the write deadline and wakes a waiting write to
// look at it.
func (f *Conn) SetWriteDeadline(t time.Time) error {
	f.wdl.Store(deadlineNanos(t))
	wake(&f.wwait)
	return nil
}

// deadlineNanos is t in Unix nanoseconds, 0 for no deadline.
func deadlineNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.UnixNano(), 1)
}

// LocalAddr returns the socket's address, asked of the kernel; an empty
// address once the connection is closed.
func (f *Conn) LocalAddr() net.Addr {
	return f.sockAddr(syscall.Getsockname)
}

// RemoteAddr returns the peer's address.
func (f *Conn) RemoteAddr() net.Addr {
	if f.raddr != 0 {
		ip := make(net.IP, 4)
		binary.BigEndian.PutUint32(ip, uint32(f.raddr>>16))
		return &net.TCPAddr{IP: ip, Port: int(uint16(f.raddr))}
	}
	return f.sockAddr(syscall.Getpeername)
}

// RemoteAddrString returns RemoteAddr().String(); for a peer AcceptEach
// took, made in one allocation.
func (f *Conn) RemoteAddrString() string {
	if f.raddr != 0 {
		var ip [4]byte
		binary.BigEndian.PutUint32(ip[:], uint32(f.raddr>>16))
		return netip.AddrPortFrom(netip.AddrFrom4(ip), uint16(f.raddr)).String()
	}
	return f.RemoteAddr().String()
}

// sockAddr returns what get says of the socket as a *net.TCPAddr: the
// syscall package's call, which unlike x/sys/unix's asks nothing more of
// the socket (its protocol) to convert the address.
func (f *Conn) sockAddr(get func(int) (syscall.Sockaddr, error)) net.Addr {
	if f.incref() != nil {
		return &net.TCPAddr{}
	}
	defer f.decref()
	sa, _ := get(int(f.fd))
	if a := sockaddrAddr(sa); a != nil {
		return a
	}
	return &net.TCPAddr{}
}

// sockaddrAddr returns the TCP address sa holds, or nil.
func sockaddrAddr(sa syscall.Sockaddr) *net.TCPAddr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port}
	case *syscall.SockaddrInet6:
		a := &net.TCPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port}
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a
	}
	return nil
}

// ReadNow reads once what the socket holds, without waiting: it returns
// syscall.EAGAIN when the socket is empty.
func (f *Conn) ReadNow(p []byte) (int, error) {
	if err := f.incref(); err != nil {
		return 0, err
	}
	defer f.decref()
	for {
		n, err := Read(uintptr(f.fd), p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, syscall.EAGAIN
		case err != 0:
			return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
		}
		return n, nil
	}
}
