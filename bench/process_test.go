package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// serverProc is a benchmark server running in a child process.
type serverProc struct {
	lib   string
	mode  compressMode
	addr  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	ctl   *http.Client
	once  sync.Once
	// stopFunc, when set, stops a server that is not a benchmark child
	// (duplex serve) in place of closing its stdin.
	stopFunc func()
}

// startServer starts the server of lib in a child process and registers its
// stop with tb.Cleanup.
func startServer(tb testing.TB, lib string, mode compressMode) *serverProc {
	tb.Helper()
	p, err := launchServer(lib, mode)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.stop)
	return p
}

// launchServer starts the server of lib in a child process; the caller
// must stop it.
func launchServer(lib string, mode compressMode) (*serverProc, error) {
	name, args := os.Args[0], []string{"-test.run=^$"}
	if cpus := os.Getenv(envServerCPUs); cpus != "" {
		// taskset execs the server, which keeps its PID.
		name, args = "taskset", append([]string{"-c", cpus, name}, args...)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), envServer+"="+lib, envCompress+"="+string(mode))
	ctl := &http.Client{Timeout: 30 * time.Second}
	if g := os.Getenv(envServerGodebug); g != "" {
		cmd.Env = append(cmd.Env, "GODEBUG="+g)
	}
	if lib == "duplex-tls" {
		// net/http offers extended CONNECT (RFC 8441) only with this set at start-up.
		cmd.Env = append(cmd.Env, "GODEBUG=http2xconnect=1")
		ctl.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProc{
		lib:   lib,
		mode:  mode,
		cmd:   cmd,
		stdin: stdin,
		ctl:   ctl,
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case p.addr = <-line:
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s server did not start within 30s", lib)
	}
	if p.addr == "" {
		p.stop()
		return nil, fmt.Errorf("%s server exited before listening", lib)
	}
	return p, nil
}

// stats fetches the server's statistics, after a garbage collection if gc
// is set.
func (p *serverProc) stats(tb testing.TB, gc bool) procStats {
	tb.Helper()
	scheme := "http"
	if p.lib == "duplex-tls" {
		scheme = "https"
	}
	resp, err := p.ctl.Get(fmt.Sprintf("%s://%s/ctl/stats?gc=%t", scheme, p.addr, gc))
	if err != nil {
		tb.Fatalf("%s server stats: %v", p.lib, err)
	}
	defer resp.Body.Close()
	var st procStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		tb.Fatalf("%s server stats: %v", p.lib, err)
	}
	return st
}

// waitSubscribers waits until the server holds n fan-out subscribers.
func (p *serverProc) waitSubscribers(tb testing.TB, n int) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := p.stats(tb, false)
		if st.Subscribers == n {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s server holds %d subscribers, want %d", p.lib, st.Subscribers, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the child: closing its stdin lets it stop a CPU profile and
// exit; a child still running after 5s is killed by its PID.
func (p *serverProc) stop() {
	p.once.Do(func() {
		if p.stopFunc != nil {
			p.stopFunc()
			return
		}
		p.ctl.CloseIdleConnections()
		p.stdin.Close()
		done := make(chan struct{})
		go func() {
			p.cmd.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-done
		}
	})
}

// dialMany opens n raw clients to path on the server, a few at a time.
func dialMany(tb testing.TB, addr, path string, n, readBuffer int) []*rawClient {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	clients := make([]*rawClient, n)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, 32) {
		wg.Go(func() {
			for i := range next {
				c, err := dialRaw(ctx, addr, path, readBuffer)
				if err != nil {
					select {
					case errs <- fmt.Errorf("client %d: %w", i, err):
					default:
					}
					cancel()
					continue
				}
				clients[i] = c
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		closeAll(clients)
		tb.Fatalf("dialing %d clients to %s%s: %v", n, addr, path, err)
	default:
	}
	return clients
}

// closeAll closes every client that is not nil.
func closeAll(clients []*rawClient) {
	for _, c := range clients {
		if c != nil {
			c.close()
		}
	}
}
