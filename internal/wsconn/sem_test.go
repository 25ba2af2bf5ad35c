package wsconn

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func newSem() (*Sem, *End) { return new(Sem), new(End) }

// TestSemExclusive has many goroutines take the slot at once: never two
// holders, and every waiter gets it in the end.
func TestSemExclusive(t *testing.T) {
	t.Parallel()
	s, end := newSem()
	var holders, total int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				if err := s.Lock(context.Background(), end); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				holders++
				if holders != 1 {
					t.Error("two holders at once")
				}
				total++
				holders--
				mu.Unlock()
				s.Unlock()
			}
		}()
	}
	wg.Wait()
	if total != 8*2000 {
		t.Fatalf("%d acquisitions, want %d", total, 8*2000)
	}
}

func TestSemContextEnds(t *testing.T) {
	t.Parallel()
	s, end := newSem()
	if err := s.Lock(context.Background(), end); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := s.Lock(ctx, end); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock on a held slot: %v, want the context's error", err)
	}
	s.Unlock()
	if err := s.Lock(context.Background(), end); err != nil {
		t.Fatalf("Lock after the waiter gave up: %v", err)
	}
}

func TestSemEnd(t *testing.T) {
	t.Parallel()
	s, end := newSem()
	if err := s.Lock(context.Background(), end); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Lock(context.Background(), end) }()
	end.Close()
	if err := <-errc; !errors.Is(err, ErrEnded) {
		t.Fatalf("waiter after the end: %v, want ErrEnded", err)
	}
	s.Unlock()
	// A free slot on an ended connection is not taken either.
	if err := s.Lock(context.Background(), end); !errors.Is(err, ErrEnded) {
		t.Fatalf("Lock of a free slot after the end: %v, want ErrEnded", err)
	}
	if !s.TryLock() {
		t.Fatal("the slot was left held")
	}
}

func TestSemUncontendedAllocs(t *testing.T) {
	s, end := newSem()
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() {
		s.Lock(ctx, end)
		s.Unlock()
	}); n != 0 {
		t.Fatalf("%v allocations per Lock and Unlock", n)
	}
	if s.wake.Load() != nil {
		t.Fatal("a semaphore nobody waited for made its wake channel")
	}
}

func BenchmarkSemUncontended(b *testing.B) {
	s, end := newSem()
	ctx := context.Background()
	for b.Loop() {
		s.Lock(ctx, end)
		s.Unlock()
	}
}
