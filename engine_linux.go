package websocket

import (
	"context"
	"net"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// epoller is one epoll instance and the goroutine that waits on it.
// Connections are registered edge-triggered, for reading and writing at
// once, with their engine id as the event's data, never their descriptor:
// an event that comes after a connection ended, its descriptor closed and
// its number reused, names an id the engine no longer knows and is dropped.
type epoller struct {
	e    *Engine
	fd   int
	ep   *os.File // fd, waited for through the runtime's poller
	wake int      // an eventfd whose event (id 0) stops the wait
}

// wakeID is the event data of an epoller's eventfd; connection ids start at 1.
const wakeID = 0

func newPollers(e *Engine, n int) ([]*epoller, error) {
	ps := make([]*epoller, 0, n)
	for range n {
		p, err := newEpoller(e)
		if err != nil {
			for _, p := range ps {
				p.close()
			}
			return nil, err
		}
		ps = append(ps, p)
		go p.wait()
	}
	return ps, nil
}

func newEpoller(e *Engine) (*epoller, error) {
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
	return &epoller{e: e, fd: fd, ep: os.NewFile(uintptr(fd), "epoll"), wake: wake}, nil
}

// epollEvent makes an event whose data is id.
func epollEvent(events uint32, id uint64) unix.EpollEvent {
	return unix.EpollEvent{Events: events, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
}

// eventID returns the id epollEvent put in ev.
func eventID(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// add watches a connection's descriptor, which the engine owns.
func (p *epoller) add(id uint64, fd int) error {
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

// dupCloexec duplicates descriptor fd, close-on-exec, or returns -1.
func dupCloexec(fd uintptr) int {
	r, _, e := syscall.RawSyscall(unix.SYS_FCNTL, fd, unix.F_DUPFD_CLOEXEC, 0)
	if e != 0 {
		return -1
	}
	return int(r)
}

// epollCtl is epoll_ctl(2).
func epollCtl(epfd, op, fd int, ev *unix.EpollEvent) error {
	_, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	if e != 0 {
		return os.NewSyscallError("epoll_ctl", e)
	}
	return nil
}

// wait hands every readiness event to the engine until close. It takes
// what the engine's epoll holds without waiting, and waits for more through
// the runtime's poller, which reports the epoll descriptor readable
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
func (p *epoller) wait() {
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
				p.e.event(id, events[i].Events)
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

// event hands what epoll reported for connection id to it, if it is still
// there: a waiting read or write is woken, and bytes to read start a run.
func (e *Engine) event(id uint64, ev uint32) {
	ec := e.conns.get(id)
	if ec == nil {
		return // the connection has gone; its slot may be another's
	}
	ec.fd.notify(ev)
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) == 0 {
		return // writable only
	}
	// A peer that closed or reset its end is read until the socket says
	// so: a short read may leave its end unseen, and no event will come
	// again.
	if ev&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		ec.flags.Or(flagHangup)
	}
	ec.ready()
}

// close stops the wait; the descriptors are closed when it returns.
func (p *epoller) close() error {
	var one = [8]byte{1}
	_, err := unix.Write(p.wake, one[:])
	return err
}

// takeOver moves a connection on a *net.TCPConn to a descriptor of the
// engine's own, watched by one of its pollers, and reports whether it did:
// the socket is duplicated, the duplicate becomes the Conn's transport (an
// fdConn) and the net.TCPConn is closed, which takes the socket out of the
// runtime's poller. Every other connection, and one whose takeover fails,
// is left to a goroutine of its own.
func (e *Engine) takeOver(ec *engineConn) bool {
	tcp, ok := ec.c.br.nc.(*net.TCPConn)
	if !ok || len(e.pollers) == 0 {
		return false
	}
	raw, err := tcp.SyscallConn()
	if err != nil {
		return false
	}
	fd := -1
	raw.Control(func(s uintptr) {
		fd = dupCloexec(s) // the duplicate shares the socket's O_NONBLOCK
	})
	if fd < 0 {
		return false
	}
	ec.fd.init(fd, tcp.RemoteAddr())
	// Running from the start: what the handshake left buffered is read by
	// the first run, and events before it only mark it pending.
	ec.flags.Or(flagEvents | stateRunning)
	p := e.pollers[uint32(ec.id)%uint32(len(e.pollers))]
	if err := p.add(ec.id, fd); err != nil {
		ec.flags.And(^(flagEvents | stateMask))
		unix.Close(fd)
		return false
	}
	if !ec.c.useTransport(&ec.fd) {
		// The connection ended, is failing and draining the peer, or its
		// locks stayed busy: it keeps its net.TCPConn and a goroutine. The
		// socket's file outlives the duplicate, and so would its place in
		// epoll: it is taken out first.
		epollCtl(p.fd, unix.EPOLL_CTL_DEL, fd, &unix.EpollEvent{})
		ec.flags.And(^(flagEvents | stateMask))
		unix.Close(fd)
		return false
	}
	tcp.Close()
	return true
}

// useTransport makes f the connection's transport in place of the one it
// was made with, under every lock that guards it, so that a read, a write
// or a deadline never sees half of each; the bytes the reader buffered stay.
// It waits at most the close timeout for a frame being written. It reports
// false, changing nothing, when the connection has ended or is failing (a
// lingering close reads the old transport with no lock held), or when its
// locks stayed busy.
func (c *Conn) useTransport(f *fdConn) bool {
	ctx, cancel := context.WithTimeout(context.Background(), c.closeTimeout())
	defer cancel()
	if c.readLock.Lock(ctx, &c.ended) != nil {
		return false
	}
	defer c.readLock.Unlock()
	if c.frameLock.Lock(ctx, &c.ended) != nil {
		return false
	}
	defer c.frameLock.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended.Ended() || c.lingering {
		return false
	}
	c.br.nc = f
	c.br.sys = nil
	c.readWatch.Replace(f)
	c.writeWatch.Replace(f)
	return true
}
