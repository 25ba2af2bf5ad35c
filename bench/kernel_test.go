package bench

import (
	"bufio"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// socketSlabs are the kernel slab caches an established TCP socket takes
// objects from: the socket itself, its inode, its file and dentry, and
// its entry in an epoll set.
var socketSlabs = []string{"TCP", "sock_inode_cache", "filp", "dentry", "eventpoll_epi", "eventpoll_pwq"}

// slabBytes sums active objects times object size over socketSlabs, from
// /proc/slabinfo (readable by root only).
func slabBytes() (int64, error) {
	f, err := os.Open("/proc/slabinfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			continue
		}
		for _, name := range socketSlabs {
			if fields[0] == name {
				active, _ := strconv.ParseInt(fields[1], 10, 64)
				size, _ := strconv.ParseInt(fields[3], 10, 64)
				total += active * size
			}
		}
	}
	return total, sc.Err()
}

// BenchmarkKernelSocketMemory measures what the kernel holds per idle
// loopback TCP socket, beyond what any WebSocket library holds: 4,000
// connected pairs (8,000 sockets) each registered with the runtime's
// epoll, and the growth of the socket slab caches divided by the socket
// count. The figure is machine-wide, so other activity adds noise; -count
// repeats it.
func BenchmarkKernelSocketMemory(b *testing.B) {
	const pairs = 4000
	before, err := slabBytes()
	if err != nil {
		b.Skipf("cannot read /proc/slabinfo: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, pairs)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	conns := make([]net.Conn, 0, 2*pairs)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range pairs {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c, <-accepted)
	}
	time.Sleep(100 * time.Millisecond)
	after, err := slabBytes()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(after-before)/float64(2*pairs), "kernel-B/socket")
}
