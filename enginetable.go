package websocket

import "github.com/duplexws/websocket/internal/netpoll"

// connTable holds an engine's connections by id (netpoll.Table): the id
// that its pollers' events carry, and that a connection keeps until it
// leaves the engine.
type connTable = netpoll.Table[engineConn, *engineConn]

// TableID is where the connection's id in its engine's table is kept.
func (ec *engineConn) TableID() *uint64 { return &ec.id }
