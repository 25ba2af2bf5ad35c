// Package wsconn holds the machinery that the connections of package
// websocket and package legacy share: the end of a connection ([End]), the
// semaphore that serializes reads and writes ([Sem]), the watch that lets a
// context interrupt blocked I/O ([CtxWatch]), the buffer pool
// ([GetBuffer], [PutBuffer]) and the rules for the arguments of Close
// ([CheckCloseArgs]). Users must not import it.
package wsconn
