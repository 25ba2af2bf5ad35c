package netpoll

import (
	"net"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Poller is one epoll instance and the goroutine that waits on it.
// Connections are registered edge-triggered, for reading and writing at
// once, with the id their owner gave them as the event's data, never their
// descriptor: an event that comes after a connection ended, its descriptor
// closed and its number reused, names an id its owner no longer knows
// (Table), and the owner drops it.
type Poller struct {
	fd     int
	ep     *os.File // fd, waited for through the runtime's poller
	wake   int      // an eventfd whose event (wakeID) stops the wait
	handle func(id uint64, ev Events)
}

// wakeID is the event data of a Poller's eventfd; no connection has it.
const wakeID = 0

// Events is what epoll reported of a connection's socket.
type Events uint32

// Readable reports whether the socket has bytes to read, or an end or
// error that a read returns.
func (ev Events) Readable() bool {
	return ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0
}

// Hangup reports whether the peer closed or reset its end, or the socket
// failed.
func (ev Events) Hangup() bool { return ev&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 }

// writable reports whether the socket takes bytes again, or has failed.
func (ev Events) writable() bool { return ev&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 }

// NewPoller starts a poller that calls handle with each event of the
// connections attached to it, from its own goroutine, until Close.
func NewPoller(handle func(id uint64, ev Events)) (*Poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	ev := epollEvent(unix.EPOLLIN, wakeID)
	if err := unix.EpollCtl(fd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(fd)
		unix.Close(wake)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	// The runtime's poller reports the epoll descriptor readable when it
	// holds events: a poller goroutine waits there, parked like any
	// goroutine blocked on a socket, not in an epoll_wait of its own that
	// keeps a thread.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		unix.Close(wake)
		return nil, os.NewSyscallError("fcntl", err)
	}
	p := &Poller{fd: fd, ep: os.NewFile(uintptr(fd), "epoll"), wake: wake, handle: handle}
	go p.wait()
	return p, nil
}

// epollEvent makes an event whose data is id.
func epollEvent(events uint32, id uint64) unix.EpollEvent {
	return unix.EpollEvent{Events: events, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
}

// eventID returns the id epollEvent put in ev.
func eventID(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// add watches a connection's descriptor.
func (p *Poller) add(id uint64, fd int) error {
	ev := epollEvent(unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP|unix.EPOLLET, id)
	return epollCtl(p.fd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// The system calls that take a connection in (dupCloexec, epollCtl) are
// made raw, as the runtime makes its own poller's: they never block, and a
// call the scheduler is told of can be caught under way by its monitor
// thread (sysmon) while other goroutines wait to run, which then hands the
// P to another thread. Through the syscall package, a burst of 10,000
// connections left a one-core engine with 11 to 24 more threads than it
// began with, each keeping 48 KiB of runtime stacks and its own; raw, the
// count stays where a goroutine-per-connection server's does.

// dupCloexec duplicates descriptor fd, close-on-exec.
func dupCloexec(fd uintptr) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall(unix.SYS_FCNTL, fd, unix.F_DUPFD_CLOEXEC, 0)
	return int(r), e
}

// epollCtl is epoll_ctl(2).
func epollCtl(epfd, op, fd int, ev *unix.EpollEvent) error {
	_, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	if e != 0 {
		return os.NewSyscallError("epoll_ctl", e)
	}
	return nil
}

// wait hands every readiness event to handle until Close. It takes what
// its epoll holds without waiting, and waits for more through the
// runtime's poller, which reports the epoll descriptor readable
// (edge-triggered) each time an event arrives in it. A look that returned
// fewer events than it had room for emptied the epoll, so whatever comes
// later is reported again and the wait can begin; after a full look there
// may be more, and it looks again.
//
// Between two looks it yields the processor: the connections it just
// handed to workers run first, and their workers are idle again when the
// next events come. A poller that looked again at once, under a steady
// stream of events, kept the processor for its whole time slice, found
// every worker still waiting to run, and started a new one for nearly
// every message (at 10,000 busy connections on one core, 3.2 allocations
// and ~25 % fewer messages per second than with the yield).
func (p *Poller) wait() {
	defer p.ep.Close()
	defer unix.Close(p.wake)
	raw, err := p.ep.SyscallConn()
	if err != nil {
		return
	}
	events := make([]unix.EpollEvent, 256)
	raw.Read(func(fd uintptr) bool {
		for {
			n, err := sysEpollWait(fd, events)
			if err == unix.EINTR {
				continue
			}
			if err != 0 {
				return true
			}
			if n == 0 {
				return false
			}
			for i := range events[:n] {
				id := eventID(&events[i])
				if id == wakeID {
					return true
				}
				p.handle(id, Events(events[i].Events))
			}
			if n < len(events) {
				return false
			}
			runtime.Gosched()
		}
	})
}

// sysEpollWait collects the events epoll descriptor fd holds into events,
// without waiting: a raw system call, which never blocks, and so does not
// wake the runtime's monitor thread as unix.EpollWait would once per wake-up
// of an idle engine (see sysio_linux.go).
func sysEpollWait(fd uintptr, events []unix.EpollEvent) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, fd, uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	return int(n), e
}

// Close stops the wait; the descriptors are closed when it returns.
func (p *Poller) Close() error {
	var one = [8]byte{1}
	_, err := unix.Write(p.wake, one[:])
	return err
}

// Attach moves the connection on tcp to a descriptor of its own, watched
// by p with id as its events' data: the socket is duplicated and c made
// its transport. tcp is left open, for the caller to close once c is in
// use, or to go on with after Detach.
func (p *Poller) Attach(c *Conn, id uint64, tcp *net.TCPConn) error {
	raw, err := tcp.SyscallConn()
	if err != nil {
		return err
	}
	var fd int
	var e syscall.Errno
	if err := raw.Control(func(s uintptr) {
		fd, e = dupCloexec(s) // the duplicate shares the socket's O_NONBLOCK
	}); err != nil {
		return err
	}
	if e != 0 {
		return os.NewSyscallError("fcntl", e)
	}
	c.init(fd, tcp.RemoteAddr())
	if err := p.add(id, fd); err != nil {
		unix.Close(fd)
		return err
	}
	return nil
}

// AttachConn is Attach for a socket that from, watched by old, holds: c
// gets a duplicate of its descriptor, watched by p with id, and old stops
// watching the socket, whose file the duplicate keeps open, so that from
// can be closed without old reporting the socket's events under from's
// id, which may by then be another connection's.
func (p *Poller) AttachConn(c *Conn, id uint64, from *Conn, old *Poller) error {
	if err := from.incref(); err != nil {
		return err
	}
	defer from.decref()
	fd, e := dupCloexec(uintptr(from.fd))
	if e != 0 {
		return os.NewSyscallError("fcntl", e)
	}
	c.fd, c.raddr = int32(fd), from.raddr
	if err := p.add(id, fd); err != nil {
		unix.Close(fd)
		return err
	}
	epollCtl(old.fd, unix.EPOLL_CTL_DEL, int(from.fd), &unix.EpollEvent{})
	return nil
}

// Detach undoes Attach before c was used: the duplicate leaves p and is
// closed. The socket's file outlives the duplicate, and so would its place
// in epoll: it is taken out first.
func (p *Poller) Detach(c *Conn) {
	epollCtl(p.fd, unix.EPOLL_CTL_DEL, int(c.fd), &unix.EpollEvent{})
	unix.Close(int(c.fd))
}
