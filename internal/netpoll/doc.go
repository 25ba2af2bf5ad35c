// Package netpoll is the WebSocket connections' view of the operating
// system: the Linux epoll instances that watch many sockets at once
// (Poller), the table that names a watched connection by an id an event can
// carry (Table), a socket taken over from its *net.TCPConn as a net.Conn
// that waits for its Poller (Conn), a socket read and written through net's
// syscall.RawConn by a connection that has a goroutine of its own (RawIO),
// the raw system calls that read and write sockets (Read, Write), and the
// process's descriptor limit as a listener sees it (DescriptorLimit,
// DescriptorsExhausted). It holds all of the module's unsafe code and
// system calls.
//
// A Poller knows nothing of WebSockets: it hands each event to a function
// as the id it was given and what the socket became (Events), and the
// engine looks the id up in its Table.
package netpoll
