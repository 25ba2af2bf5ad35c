package natsbroker_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// cluster is a NATS cluster of in-process servers on loopback ports.
type cluster struct {
	nodes []*server.Server
}

// startCluster starts n clustered NATS servers, the first being the seed
// the others route to, and waits until each has a route to every other.
// They are shut down when the test ends.
func startCluster(t testing.TB, n int) *cluster {
	t.Helper()
	return startClusterJS(t, n, false)
}

// startClusterJS is startCluster with JetStream on every node when js is
// set, each storing in a directory of the test's.
func startClusterJS(t testing.TB, n int, js bool) *cluster {
	t.Helper()
	c := &cluster{}
	t.Cleanup(func() {
		for _, s := range c.nodes {
			s.Shutdown()
			s.WaitForShutdown()
		}
	})
	// The route ports are chosen first so that every node can route to
	// every other from the start: a JetStream node is ready only once it
	// has met its peers.
	ports := make([]int, n)
	var routes []string
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	for i := range n {
		opts := &server.Options{
			ServerName: fmt.Sprintf("node%d", i),
			Host:       "127.0.0.1",
			Port:       -1,
			NoLog:      true,
			NoSigs:     true,
			Cluster:    server.ClusterOpts{Name: "duplex-test", Host: "127.0.0.1", Port: ports[i]},
			Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
			JetStream:  js,
		}
		if js {
			opts.StoreDir = t.TempDir()
		}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		c.nodes = append(c.nodes, s)
	}
	for i, s := range c.nodes {
		if !s.ReadyForConnections(20 * time.Second) {
			t.Fatalf("NATS node %d not ready", i)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, s := range c.nodes {
		for s.NumRoutes() < n-1 {
			if time.Now().After(deadline) {
				t.Fatalf("NATS node %s has %d routes, want %d", s.Name(), s.NumRoutes(), n-1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return c
}

// urls returns the client URLs of the nodes at the given indexes, joined
// with commas as natsbroker.Connect takes them.
func (c *cluster) urls(idx ...int) string {
	var u []string
	for _, i := range idx {
		u = append(u, c.nodes[i].ClientURL())
	}
	return strings.Join(u, ",")
}

// waitInterest waits until node i knows of n subscriptions (local or
// routed from other nodes) matching subject.
func (c *cluster) waitInterest(t testing.TB, i int, subject string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.nodes[i].GlobalAccount().Interest(subject) < n {
		if time.Now().After(deadline) {
			t.Fatalf("NATS node %d has %d subscriptions to %s, want %d", i, c.nodes[i].GlobalAccount().Interest(subject), subject, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nodeOf returns the index of the node whose client URL is url.
func (c *cluster) nodeOf(t testing.TB, url string) int {
	t.Helper()
	for i, s := range c.nodes {
		if s.ClientURL() == url {
			return i
		}
	}
	t.Fatalf("no node has the URL %q", url)
	return -1
}
