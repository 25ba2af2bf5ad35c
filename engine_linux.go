package websocket

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// epoller is one epoll instance and the goroutine that waits on it.
// Connections are registered edge-triggered with their engine id as the
// event's data, never their descriptor: an event that comes after a
// connection ended, its descriptor closed and its number reused, names an
// id the engine no longer knows and is dropped.
type epoller struct {
	e    *Engine
	fd   int
	wake int // an eventfd whose event (id 0) stops the wait
}

// wakeID is the event data of an epoller's eventfd; connection ids start at 1.
const wakeID = 0

func newPollers(e *Engine, n int) ([]eventPoller, error) {
	ps := make([]eventPoller, 0, n)
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
	return &epoller{e: e, fd: fd, wake: wake}, nil
}

// epollEvent makes an event whose data is id.
func epollEvent(events uint32, id uint64) unix.EpollEvent {
	return unix.EpollEvent{Events: events, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
}

// eventID returns the id epollEvent put in ev.
func eventID(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// add watches a connection's descriptor. Control holds the descriptor open
// for the call, so it cannot be another connection's by then.
func (p *epoller) add(id uint64, raw syscall.RawConn) error {
	var cerr error
	err := raw.Control(func(fd uintptr) {
		ev := epollEvent(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLET, id)
		cerr = unix.EpollCtl(p.fd, unix.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if err != nil {
		return err
	}
	if cerr != nil {
		return os.NewSyscallError("epoll_ctl", cerr)
	}
	return nil
}

// remove stops watching a connection's descriptor; closing the descriptor
// does it too, so a descriptor already closed needs nothing.
func (p *epoller) remove(_ uint64, raw syscall.RawConn) {
	raw.Control(func(fd uintptr) {
		unix.EpollCtl(p.fd, unix.EPOLL_CTL_DEL, int(fd), nil)
	})
}

// wait hands every readiness event to the engine until close.
func (p *epoller) wait() {
	defer unix.Close(p.fd)
	defer unix.Close(p.wake)
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(p.fd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		for i := range events[:n] {
			id := eventID(&events[i])
			if id == wakeID {
				return
			}
			// A peer that closed or reset its end is read until the
			// socket says so: a short read may leave its end unseen, and
			// no event will come again.
			p.e.ready(id, events[i].Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0)
		}
	}
}

// close stops the wait; the descriptors are closed when it returns.
func (p *epoller) close() error {
	var one = [8]byte{1}
	_, err := unix.Write(p.wake, one[:])
	return err
}
