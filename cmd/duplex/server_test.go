package main

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"
)

// TestConnSetShutdownClosesGroupsAndTracked checks what the set does on
// shutdown: it refuses new slots, has each group (an engine) close its
// connections and each tracked connection close, and returns once every
// slot is free; a connection tracked after the shutdown began is closed at
// once. The set keeps nothing per connection of a group but its count.
func TestConnSetShutdownClosesGroupsAndTracked(t *testing.T) {
	s := newConnSet(0)
	r := httptest.NewRequest("GET", "/echo", nil)
	for range 3 {
		if !s.enter(r) {
			t.Fatal("enter refused a slot before the shutdown")
		}
	}
	// Two connections of an engine, which it closes; one a goroutine serves.
	groupDone := make(chan struct{})
	s.closeGroupOnShutdown(func(ctx context.Context) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the group's shutdown has no deadline")
		}
		s.leave()
		s.leave()
		close(groupDone)
	})
	closed := make(chan struct{})
	id := s.track(func() {
		close(closed)
		s.leave()
	})
	if len(s.closers) != 1 {
		t.Fatalf("%d closers kept, want 1: the engine's connections need none", len(s.closers))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if left := s.shutdown(ctx); left != 0 {
		t.Fatalf("%d connections left after the shutdown, want 0", left)
	}
	<-groupDone
	<-closed
	s.untrack(id)
	if s.enter(r) {
		t.Fatal("enter took a slot during the shutdown")
	}
	late := make(chan struct{})
	s.track(func() { close(late) })
	select {
	case <-late:
	case <-time.After(5 * time.Second):
		t.Fatal("a connection tracked after the shutdown began was not closed")
	}
}

// TestConnSetShutdownTimesOut checks that shutdown gives up when its
// context ends, saying how many connections are still open.
func TestConnSetShutdownTimesOut(t *testing.T) {
	s := newConnSet(0)
	s.enter(httptest.NewRequest("GET", "/echo", nil))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if left := s.shutdown(ctx); left != 1 {
		t.Fatalf("shutdown said %d left, want 1", left)
	}
}
