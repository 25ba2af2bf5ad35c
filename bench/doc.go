// Package bench measures Duplex side by side with other Go WebSocket
// libraries: gorilla/websocket, coder/websocket, gobwas/ws and lxzan/gws.
//
// Each library's server runs in a child process (the test binary started
// again with DUPLEX_BENCH_SERVER naming the library), so that the server's
// CPU time, allocations and memory are read apart from the client's. The
// client is the same for every server: a minimal client that sends frames
// masked once in advance, or Duplex's own client where compression is
// negotiated. See README.md for how to run the benchmarks and RESULTS.md for
// a run on the project's machine.
package bench
