package linerate

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := Limiter{PerSecond: 3}
	start := time.Unix(1000, 0)
	for i := range 3 {
		if ok, n := l.Allow(start); !ok || n != 0 {
			t.Fatalf("line %d of the first second: %v, %d left out", i, ok, n)
		}
	}
	for i := range 5 {
		if ok, _ := l.Allow(start.Add(time.Duration(i) * time.Millisecond)); ok {
			t.Fatalf("line %d beyond the limit let through", 4+i)
		}
	}
	if ok, n := l.Allow(start.Add(time.Second)); !ok || n != 5 {
		t.Fatalf("the next second's first line: %v, %d left out, want true, 5", ok, n)
	}
	if ok, n := l.Allow(start.Add(time.Second)); !ok || n != 0 {
		t.Fatalf("the line after it: %v, %d left out, want true, 0", ok, n)
	}
}
