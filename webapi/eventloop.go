package webapi

import "sync"

// maxQueuedMessages bounds the messages waiting for delivery in the native
// build. When it is reached the connection stops reading until the handlers
// catch up, so a slow handler slows the peer down (TCP flow control) instead
// of filling memory. Under GOOS=js the browser's event handlers must never
// block, so there the queue is not bounded.
const maxQueuedMessages = 256

// taskKind says what a task reports, in the terms of the WebSockets
// standard's "Feedback from the protocol".
type taskKind int

const (
	taskOpen    taskKind = iota // the connection is established
	taskMessage                 // a message has been received
	taskClosing                 // the closing handshake has started
	taskClosed                  // the connection is closed
)

// task is one entry of a WebSocket's task queue: what the connection
// reported, and, when delivered, the state change and the events it makes.
type task struct {
	kind taskKind

	protocol, extensions string // taskOpen

	text bool   // taskMessage
	data []byte // taskMessage

	err   error      // taskClosed: why the connection failed; nil when it did not
	close CloseEvent // taskClosed
}

// eventLoop is a WebSocket's task queue and the state of its delivery. Its
// fields are guarded by the WebSocket's mutex, which cond uses too.
type eventLoop struct {
	cond     sync.Cond
	queue    []task
	messages int  // taskMessage entries in queue
	started  bool // the delivering goroutine runs
	finished bool // every event has been delivered; events is closed
	handlers Handlers
	events   chan Event
}

// push queues a task. Tasks are delivered in the order they were pushed.
// With wait set, a message waits while maxQueuedMessages are queued. A
// message that arrives once Close was called is dropped at once: the state
// never goes back to OPEN, so it would never be delivered.
func (ws *WebSocket) push(t task, wait bool) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	l := &ws.loop
	if t.kind == taskMessage {
		for wait && l.messages >= maxQueuedMessages && ws.state < Closing {
			l.cond.Wait()
		}
		if ws.state >= Closing {
			return
		}
		l.messages++
	}
	l.queue = append(l.queue, t)
	l.cond.Broadcast()
}

// SetHandlers sets the functions that receive this WebSocket's events,
// replacing any set before; a handler may call it to change them. Events
// are held in the WebSocket's queue until the first call of SetHandlers or
// Events, so a program that calls one of them right after New misses none;
// until then the WebSocket also stays CONNECTING, since its state changes
// as each event is delivered.
func (ws *WebSocket) SetHandlers(h Handlers) {
	ws.mu.Lock()
	ws.loop.handlers = h
	ws.startLoop()
	ws.mu.Unlock()
}

// Events returns a channel that receives this WebSocket's events, after the
// handlers (if any) have run for each; it is closed after the close event.
// Every call returns the same channel. Delivery waits while the channel is
// full, so a program that uses Events must receive until the channel is
// closed. Like SetHandlers, the first call starts delivery.
func (ws *WebSocket) Events() <-chan Event {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.loop.events == nil {
		ws.loop.events = make(chan Event, 16)
		if ws.loop.finished {
			close(ws.loop.events)
		}
	}
	ws.startLoop()
	return ws.loop.events
}

// startLoop starts delivering events, once. ws.mu is held.
func (ws *WebSocket) startLoop() {
	if !ws.loop.started {
		ws.loop.started = true
		go ws.deliverAll()
	}
}

// deliverAll runs the task queue: it takes each task in turn, makes the state
// change it carries, and delivers its events, until the close event.
func (ws *WebSocket) deliverAll() {
	for {
		evs, last := ws.next()
		for _, ev := range evs {
			ws.deliver(ev)
		}
		if last {
			ws.mu.Lock()
			ws.loop.finished = true
			if ws.loop.events != nil {
				close(ws.loop.events)
			}
			ws.mu.Unlock()
			return
		}
	}
}

// next waits for the next task and applies it, as the task the standard
// queues for it would: it returns the events to fire and whether this was
// the last task.
func (ws *WebSocket) next() ([]Event, bool) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	l := &ws.loop
	for len(l.queue) == 0 {
		l.cond.Wait()
	}
	t := l.queue[0]
	l.queue[0] = task{}
	l.queue = l.queue[1:]
	switch t.kind {
	case taskOpen:
		// Close during CONNECTING fails the connection even when it was
		// established meanwhile: the open event then never comes.
		if ws.state != Connecting {
			return nil, false
		}
		ws.state = Open
		ws.protocol, ws.extensions = t.protocol, t.extensions
		return []Event{OpenEvent{}}, false
	case taskMessage:
		l.messages--
		l.cond.Broadcast()
		if ws.state != Open {
			return nil, false
		}
		return []Event{MessageEvent{Data: ws.messageData(t), Origin: ws.u.origin}}, false
	case taskClosing:
		if ws.state == Open {
			ws.state = Closing
		}
		return nil, false
	}
	ws.state = Closed
	if t.err != nil {
		return []Event{ErrorEvent{Err: t.err}, t.close}, true
	}
	return []Event{t.close}, true
}

// messageData gives a received message the Go form its type and the
// current BinaryType ask for. ws.mu is held.
func (ws *WebSocket) messageData(t task) any {
	switch {
	case t.text:
		return string(t.data)
	case ws.binaryType == BinaryArrayBuffer:
		return t.data
	}
	return &Blob{data: t.data}
}

// deliver calls the handler for ev, then sends ev on the Events channel, if
// there is one. Both are read at delivery, so a handler that changes them
// affects the next event.
func (ws *WebSocket) deliver(ev Event) {
	ws.mu.Lock()
	h, ch := ws.loop.handlers, ws.loop.events
	ws.mu.Unlock()
	switch e := ev.(type) {
	case OpenEvent:
		if h.OnOpen != nil {
			h.OnOpen(e)
		}
	case MessageEvent:
		if h.OnMessage != nil {
			h.OnMessage(e)
		}
	case ErrorEvent:
		if h.OnError != nil {
			h.OnError(e)
		}
	case CloseEvent:
		if h.OnClose != nil {
			h.OnClose(e)
		}
	}
	if ch != nil {
		ch <- ev
	}
}
