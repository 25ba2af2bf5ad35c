package wsconn

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// CtxWatch makes a blocked read or write return when the context of the
// operation ends, by pushing the connection's read or write deadline into
// the past. An operation is bracketed by Watch and Unwatch: the context's
// end touches the connection only between the two. It keeps its
// registration with the last context between operations, so that a
// connection used again and again with one context (an http.Request's, say)
// registers with that context once, not once per message; an operation with
// that context again costs two atomic stores and a load, and one with a
// context that cannot end costs an atomic load and a call of its Done. When
// that context ends between operations, the watch only records it: the next
// operation with it fails at once with its error, and every other
// operation, a Close's read among them, goes on undisturbed.
//
// A watch that has only seen contexts that cannot end holds nothing, a
// pointer's worth in its connection: the state of a real watch is made by
// the first Watch of a context that can end.
//
// Watch is called by one goroutine at a time (the holder of the semaphore
// the watch belongs to); Release and the watched context's end may come
// from any goroutine.
type CtxWatch struct {
	// state is made by the first Watch of a context that can end, and
	// never changes after.
	state atomic.Pointer[watchState]
}

// watchState is a watch of contexts that can end.
type watchState struct {
	// last is the context of the last Watch, touched only by Watch: when
	// the next one brings it again, nothing needs to change.
	last  context.Context
	conn  Deadliner
	write bool // the watch sets conn's write deadline, not its read deadline
	// active is set from Watch to Unwatch: an operation is under way, and
	// the watched context's end must push the deadline.
	active atomic.Bool
	// fired is set when the watched context ended (and, if an operation
	// was under way, the deadline was pushed into the past); cleared when
	// the watch changes.
	fired atomic.Bool

	mu     sync.Mutex
	ctx    context.Context // the watched context; nil if none
	stop   func() bool     // unregisters the watch of ctx
	pushed bool            // fire pushed the deadline into the past, and nothing cleared it since
}

// Deadliner is the part of a net.Conn that a watch sets.
type Deadliner interface {
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// Past is a deadline that has already passed: setting it makes a blocked
// read or write return at once.
var Past = time.Unix(1, 0)

// Watch makes ctx the watched context for the operation about to start,
// which reads from conn, or writes to it when write is set; a watch is
// given the same conn and write every time. It returns ctx's error if ctx
// was seen to end already. A context that cannot end needs no watching.
// The caller ends the operation with Unwatch, whatever Watch returned.
func (w *CtxWatch) Watch(ctx context.Context, conn Deadliner, write bool) error {
	st := w.state.Load()
	if st == nil {
		if ctx.Done() == nil {
			return nil
		}
	} else if ctx == st.last {
		// Stored before fired is loaded, as fire stores fired before it
		// loads active: either this sees fired, or fire sees the
		// operation and pushes the deadline.
		st.active.Store(true)
		if st.fired.Load() {
			return ctx.Err()
		}
		return nil
	}
	return w.watchNew(ctx, conn, write)
}

// Unwatch ends the operation Watch began: from now on the end of the
// watched context leaves the connection alone. A deadline that the
// context pushed into the past during the operation is cleared, so that
// what the connection does next (a closing handshake, a control frame
// with a deadline of its own) is not cut short by an operation that has
// returned.
func (w *CtxWatch) Unwatch() {
	st := w.state.Load()
	if st == nil {
		return
	}
	st.active.Store(false)
	if !st.fired.Load() {
		return
	}
	// fire stores fired before it loads active: seeing fired, wait for a
	// fire that may still push the deadline, then clear it.
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pushed {
		st.pushed = false
		st.setDeadline(time.Time{})
	}
}

// watchNew is Watch with a context other than the last one.
func (w *CtxWatch) watchNew(ctx context.Context, conn Deadliner, write bool) error {
	if err := ctx.Err(); err != nil {
		// Ended already: the operation must not start, rather than be
		// cut short at some point of its work when the context's
		// AfterFunc runs. The watch stays as it was.
		return err
	}
	done := ctx.Done()
	st := w.state.Load()
	if st == nil {
		if done == nil {
			return nil
		}
		st = &watchState{conn: conn, write: write}
		w.state.Store(st)
	}
	st.last = ctx
	st.mu.Lock()
	defer st.mu.Unlock()
	st.releaseLocked(true)
	if done == nil {
		return nil
	}
	st.ctx = ctx
	st.active.Store(true)
	st.stop = context.AfterFunc(ctx, func() { st.fire(ctx) })
	return nil
}

// fire records that ctx ended, when it is still the watched one, and
// pushes the deadline into the past when an operation is under way.
func (st *watchState) fire(ctx context.Context) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ctx == ctx {
		st.fired.Store(true)
		if st.active.Load() {
			st.pushed = true
			st.setDeadline(Past)
		}
	}
}

func (st *watchState) setDeadline(t time.Time) {
	if st.write {
		st.conn.SetWriteDeadline(t)
	} else {
		st.conn.SetReadDeadline(t)
	}
}

// Replace makes conn the connection the watch sets from now on, for a
// connection whose transport changed; a deadline the watched context
// pushed into the past is pushed again on conn. The caller holds what
// serialises Watch, and passes conn to Watch from now on.
func (w *CtxWatch) Replace(conn Deadliner) {
	st := w.state.Load()
	if st == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.conn = conn
	if st.pushed {
		st.setDeadline(Past)
	}
}

// Release stops watching when the connection closes, so that the context
// no longer refers to the connection. It leaves the deadline as it is.
func (w *CtxWatch) Release() {
	st := w.state.Load()
	if st == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.releaseLocked(false)
}

// releaseLocked stops watching; clear also clears a deadline the watched
// context pushed into the past, for the next operation.
func (st *watchState) releaseLocked(clear bool) {
	if st.ctx == nil {
		return
	}
	st.stop()
	if st.pushed && clear {
		st.pushed = false
		st.setDeadline(time.Time{})
	}
	st.ctx, st.stop = nil, nil
	st.fired.Store(false)
}
