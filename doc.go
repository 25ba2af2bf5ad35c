// Package websocket implements the WebSocket protocol (RFC 6455) at both
// ends, with permessage-deflate compression (RFC 7692).
//
// A server upgrades requests inside any http.Handler with Accept; a client
// connects with Dial. Both return a *Conn, which reads and writes whole
// messages (Read, Write), streams messages of any size (Reader, Writer),
// pings (Ping), and closes with the closing handshake (Close) or at once
// (CloseNow).
//
// # Messages
//
// A message is text (valid UTF-8, a string in a browser) or binary (an
// ArrayBuffer or Blob). Read returns a whole message and is bounded by the
// read limit, 32 MiB unless changed with SetReadLimit or the options. Reader
// and Writer stream a message through buffers of a few kilobytes, so a
// message of gigabytes never sits in memory; with an unlimited read limit
// they carry messages of any size.
//
// ReadJSON and WriteJSON carry one JSON value per message; NetConn turns a
// connection into a net.Conn carrying a byte stream; CloseRead reads for a
// connection that only writes.
//
// A Read or Reader whose context ends while it waits for the next message
// returns the context's error and leaves the connection usable, so an idle
// connection can be polled with short timeouts; a context that ends inside
// a message closes the connection.
//
// # Concurrency
//
// One goroutine reads while any number of goroutines write. Writes of whole
// messages are serialized: two messages never interleave on the wire, and a
// pong or close frame can go out between the frames of a long message.
//
// A context given to a call bounds that call alone: once the call has
// returned, the context's end touches nothing (a per-call timeout's
// cancel, or a request's context that ends with its handler, leaves later
// calls and the closing handshake undisturbed). A call given a context that
// has already ended fails with the context's error before doing anything.
//
// Inside, a connection has these locks, always taken in this order; a
// goroutine holding one may take those after it, never those before:
//
//  1. readLock, held by whatever reads frames: Read and Reader and the
//     message reader, CloseRead's goroutine, Close when no Read runs, an
//     Engine between two calls of OnMessage, Ping while OnMessage runs. It
//     is held across the blocking read, which its context or a deadline
//     bounds.
//  2. msgLock, held for the whole of a data message being written (Write,
//     Writer until its Close, WritePrepared). Independent of readLock: a
//     reader answering a ping or a close frame takes frameLock alone.
//  3. frameLock, held for one frame on the wire, data or control, across
//     the blocking write, which the write's context or the close timeout
//     bounds.
//  4. mu, the connection's state: the closing handshake's steps, the pings
//     waiting for their pong, the transport an Engine swaps in. Never held
//     across a blocking call: the transport is closed after mu is released
//     (a TLS close may wait to send close_notify).
//  5. Leaf locks, each guarding only its own state and taking nothing
//     after it but the transport's deadline setters: the connection's end
//     signal, each of the two context watches (which set the transport's
//     read or write deadline), and the lock of the Server tracking the
//     connection, which the connection's end tells under mu. An Engine's
//     own locks (its connection table's, and its budget of unfinished
//     messages', EngineOptions.MaxUnfinishedBytes) take no connection
//     lock and are never held across a blocking call.
//
// The three first are semaphores whose wait gives up when the caller's
// context ends or the connection ends; a goroutine blocked on one never
// holds mu.
//
// # Closing
//
// Close sends a close frame, waits for the peer's, and closes the TCP
// connection (the server first, RFC 6455 §7.1.1). When the peer closes first,
// the Read in progress answers and returns a *CloseError with the peer's code
// and reason. A protocol violation by the peer fails the connection with the
// code RFC 6455 names (1002 for framing errors, 1007 for invalid UTF-8, 1009
// for a message over the read limit) and Read returns it as a *CloseError.
// Every error after a close matches ErrClosed with errors.Is (and
// net.ErrClosed, as a closed net.Conn's errors do).
//
// # Many connections: the Engine
//
// A handler may hand its connection to an [Engine] with Serve and return;
// the engine then reads the connection without a goroutine of its own
// while it waits (on Linux, from epoll) and calls EngineOptions.OnMessage
// with each message. OnOpen, called by Serve, gives the connection a state
// ([Engine.State]); OnClose is called once the connection has ended and
// its last OnMessage has returned. [Engine.Len] and [Engine.Conns] count
// and visit the connections served. Inside OnMessage a connection may be
// written to, pinged and closed; Read and Reader fail with an error
// matching [ErrReadOwned], since the engine reads. [Conn.Context] ends with
// the connection, for what outlives a message.
//
// # Shutting a server down
//
// http.Server.Shutdown forgets a connection once Accept has taken it over.
// A [Server] made with NewServer(srv) before srv starts knows every
// WebSocket Accept upgrades for srv; its Shutdown shuts srv down, closes
// every WebSocket with StatusGoingAway (1001), and returns once they have
// ended, their handlers have returned and, for those an Engine serves,
// their OnClose has returned, or once its context ends (the rest are then
// dropped with CloseNow). [Engine.Shutdown] does the same for an engine's
// connections, all closing handshakes at once, and [Engine.Close] is
// Shutdown bounded by 10 seconds. Conn.Close returns once its own closing
// handshake is done and the connection has ended; it does not wait for
// OnClose.
//
// # HTTP/2
//
// Accept also serves WebSockets over HTTP/2 (RFC 8441 extended CONNECT),
// once net/http offers extended CONNECT: start the process with
// GODEBUG=http2xconnect=1 or import package xconnect. Such a connection is
// the request's stream and ends when the handler returns. Dial opens one when
// DialOptions.HTTP2 holds a transport, whose HTTP/2 connections the
// WebSockets then share.
//
// # Security
//
// Accept checks the Origin header: a browser page may connect only from the
// server's own host unless AcceptOptions.OriginPatterns lists its origin.
// Text is validated as UTF-8 as it arrives, frames are checked against every
// rule of RFC 6455 §5, and the read limit applies to decompressed sizes.
package websocket
