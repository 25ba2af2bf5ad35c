package netpoll

import (
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// AcceptEach accepts the connections waiting on ln, as sockets of their own
// that the runtime's poller never sees, and calls accepted with each
// socket's descriptor and its peer's address, until accepted returns
// false, accepting fails, or stop is closed: it returns nil, the error
// (os.NewSyscallError's: descriptor exhaustion is temporary), or
// os.ErrClosed after stop. It waits for
// connections through the runtime's poller, with no goroutine but the
// caller's and one that waits for stop, on a duplicate of ln's descriptor
// (net's listener lends its own to no read), which it closes before it
// returns.
//
// Each socket is non-blocking and close-on-exec, has TCP_NODELAY set as
// net's accepted connections do, and TCP keep-alive probes every keepAlive
// (net.ListenConfig's default of 15 s for 0; none when negative). The
// callee owns the descriptor.
func AcceptEach(ln *net.TCPListener, stop <-chan struct{}, keepAlive time.Duration, accepted func(fd int, remote syscall.Sockaddr) bool) error {
	raw, err := ln.SyscallConn()
	if err != nil {
		return err
	}
	var lfd int
	var e syscall.Errno
	if err := raw.Control(func(fd uintptr) { lfd, e = dupCloexec(fd) }); err != nil {
		return err
	}
	if e != 0 {
		return os.NewSyscallError("fcntl", e)
	}
	// Non-blocking as ln's is, the duplicate joins the runtime's poller.
	f := os.NewFile(uintptr(lfd), "listener")
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-stop:
			f.Close()
		case <-done:
			f.Close()
		}
	}()
	rf, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var failed error
	paused := false
	err = rf.Read(func(lfd uintptr) bool {
		for {
			// The syscall package's accept4, which converts the address
			// without asking the socket for its protocol.
			fd, sa, err := syscall.Accept4(int(lfd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
			switch {
			case err == syscall.EAGAIN:
				return false // wait for ln to be readable
			case err == syscall.EINTR || err == syscall.ECONNABORTED:
				continue // as net does: the peer left before its turn
			case err != nil:
				failed = os.NewSyscallError("accept4", err)
				return true
			}
			if err := setSocketOptions(fd, keepAlive); err != nil {
				unix.Close(fd)
				continue
			}
			if !accepted(fd, sa) {
				paused = true
				return true
			}
		}
	})
	if failed != nil || paused {
		return failed
	}
	select {
	case <-stop:
		return os.ErrClosed
	default:
	}
	return err
}

// setSocketOptions sets TCP_NODELAY and the keep-alive of an accepted
// socket.
func setSocketOptions(fd int, keepAlive time.Duration) error {
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return err
	}
	if keepAlive < 0 {
		return nil
	}
	if keepAlive == 0 {
		keepAlive = 15 * time.Second
	}
	secs := max(int(keepAlive/time.Second), 1)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1); err != nil {
		return err
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, secs); err != nil {
		return err
	}
	return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secs)
}

// InitAccepted makes c the transport of fd, a socket AcceptEach gave, not
// yet watched: before c is published to the goroutines that will use it
// (the poller's events among them), which the system call that watches it
// does not order for the race detector.
func (c *Conn) InitAccepted(fd int, remote syscall.Sockaddr) {
	c.fd = int32(fd)
	if sa, ok := remote.(*syscall.SockaddrInet4); ok {
		c.raddr = packIPv4(sa.Addr, sa.Port)
	}
}

// WatchAccepted has p watch c's socket, which InitAccepted gave it, with
// id as its events' data. On failure the socket is closed, and so is c,
// whose Close then touches no descriptor.
func (p *Poller) WatchAccepted(c *Conn, id uint64) error {
	if err := p.add(id, int(c.fd)); err != nil {
		c.refs.Store(1)
		unix.Close(int(c.fd))
		return err
	}
	return nil
}
