package natsbroker_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// natsNodes is a NATS cluster a test can kill a node of.
type natsNodes interface {
	// urls returns the client URLs of the nodes at the given indexes,
	// joined with commas.
	urls(idx ...int) string
	// kill stops node i at once.
	kill(i int)
}

func (c *cluster) kill(i int) { c.nodes[i].Shutdown() }

// binaryCluster is a NATS cluster of nats-server processes.
type binaryCluster struct {
	cmds    []*exec.Cmd
	clients []string
}

func (c *binaryCluster) urls(idx ...int) string {
	var u []string
	for _, i := range idx {
		u = append(u, c.clients[i])
	}
	return strings.Join(u, ",")
}

func (c *binaryCluster) kill(i int) {
	c.cmds[i].Process.Kill()
	c.cmds[i].Wait()
}

// freePorts returns n TCP ports free on loopback a moment ago.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	return ports
}

// startBinaryCluster starts n clustered nats-server processes with
// JetStream, from the nats-server found on PATH (Debian's package is
// 2.9.10, the oldest release Duplex supports). Without it the test is
// skipped, or fails under CI=true. The processes are killed when the test
// ends.
func startBinaryCluster(t *testing.T, n int) *binaryCluster {
	t.Helper()
	path, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("nats-server not found: apt-get install -y nats-server")
		}
		t.Skip("nats-server not found: apt-get install -y nats-server to run this test against it")
	}
	ports := freePorts(t, 2*n)
	var routes []string
	for i := range n {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[n+i]))
	}
	c := &binaryCluster{}
	t.Cleanup(func() {
		for _, cmd := range c.cmds {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	for i := range n {
		cmd := exec.Command(path,
			"-a", "127.0.0.1", "-p", fmt.Sprint(ports[i]), "-n", fmt.Sprintf("node%d", i),
			"-js", "-sd", t.TempDir(),
			"--cluster_name", "duplex-test", "--cluster", routes[i], "--routes", strings.Join(routes, ","))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c.cmds = append(c.cmds, cmd)
		c.clients = append(c.clients, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	deadline := time.Now().Add(20 * time.Second)
	for i, port := range ports[:n] {
		for {
			conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err == nil {
				conn.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nats-server node %d does not accept connections: %v", i, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c
}
