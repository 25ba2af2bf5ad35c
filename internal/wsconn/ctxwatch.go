package wsconn

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// CtxWatch makes a blocked read or write return when the context of the
// operation ends, by pushing the connection's read or write deadline into
// the past. It keeps watching the last context it was given between
// operations, so that a connection used again and again with one context
// (an http.Request's, say) registers with that context once, not once per
// message; an operation with that context again costs an atomic load and a
// comparison, and one with a context that cannot end costs an atomic load
// and a call of its Done.
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
	// fired is set when the watched context ended and the deadline was
	// pushed into the past; cleared when the watch changes.
	fired atomic.Bool

	mu   sync.Mutex
	ctx  context.Context // the watched context; nil if none
	stop func() bool     // unregisters the watch of ctx
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
func (w *CtxWatch) Watch(ctx context.Context, conn Deadliner, write bool) error {
	st := w.state.Load()
	if st == nil {
		if ctx.Done() == nil {
			return nil
		}
	} else if ctx == st.last {
		if st.fired.Load() {
			return ctx.Err()
		}
		return nil
	}
	return w.watchNew(ctx, conn, write)
}

// watchNew is Watch with a context other than the last one.
func (w *CtxWatch) watchNew(ctx context.Context, conn Deadliner, write bool) error {
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
	st.stop = context.AfterFunc(ctx, func() { st.fire(ctx) })
	return nil
}

// fire pushes the deadline into the past when ctx is still the watched one.
func (st *watchState) fire(ctx context.Context) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ctx == ctx {
		st.fired.Store(true)
		st.setDeadline(Past)
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
	if st.fired.Load() {
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
	if st.fired.Load() && clear {
		st.setDeadline(time.Time{})
	}
	st.ctx, st.stop = nil, nil
	st.fired.Store(false)
}
