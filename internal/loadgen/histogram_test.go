package loadgen

import (
	"math/rand/v2"
	"sort"
	"testing"
)

func TestBucketBoundsHoldTheirValues(t *testing.T) {
	values := []int64{0, 1, 255, 256, 257, 511, 512, 1000, 1 << 20, 1<<20 + 12345, 999_999_999, maxTrackable}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		values = append(values, r.Int64N(maxTrackable))
	}
	for _, v := range values {
		i := bucketIndex(v)
		lo, hi := bucketBounds(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if v >= 256 && float64(hi-lo+1)/float64(lo) > 1.0/128 {
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/128 of its values", i, lo, hi)
		}
		if i > 0 {
			_, prevHi := bucketBounds(i - 1)
			if prevHi != lo-1 {
				t.Fatalf("buckets %d and %d leave a gap: %d, %d", i-1, i, prevHi, lo)
			}
		}
	}
}

func TestQuantilesWithinOnePercent(t *testing.T) {
	h := NewHistogram()
	r := rand.New(rand.NewPCG(3, 4))
	vals := make([]int64, 200_000)
	for i := range vals {
		// Latency-like: mostly around 100µs, with a long tail.
		v := int64(50_000 + r.ExpFloat64()*80_000)
		if i%1000 == 0 {
			v *= 100
		}
		vals[i] = v
		h.Record(v)
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		idx := int(float64(len(vals))*q+0.999999) - 1
		want := vals[idx]
		got := h.Quantile(q)
		if d := float64(got-want) / float64(want); d < 0 || d > 0.01 {
			t.Errorf("quantile %v: got %d, exact %d (off by %.3f%%)", q, got, want, d*100)
		}
	}
	if h.Count() != uint64(len(vals)) || h.Min() != vals[0] || h.Max() != vals[len(vals)-1] {
		t.Errorf("count/min/max = %d/%d/%d, want %d/%d/%d", h.Count(), h.Min(), h.Max(), len(vals), vals[0], vals[len(vals)-1])
	}
}

func TestMergeAddsCounts(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for v := int64(1); v <= 100; v++ {
		a.Record(v)
		b.Record(v * 1000)
	}
	a.Merge(b)
	if a.Count() != 200 || a.Min() != 1 || a.Max() != 100_000 {
		t.Fatalf("merged count/min/max = %d/%d/%d", a.Count(), a.Min(), a.Max())
	}
	if got := a.Quantile(0.5); got != 100 {
		t.Errorf("median of merged = %d, want 100", got)
	}
	if m := a.Mean(); m != 25_275.25 {
		t.Errorf("mean = %v, want 25275.25", m)
	}
}

func TestEmptyHistogram(t *testing.T) {
	h := NewHistogram()
	if h.Quantile(0.99) != 0 || h.Min() != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Fatal("an empty histogram reports non-zero values")
	}
}

func BenchmarkRecord(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	for i := range b.N {
		h.Record(int64(i&0xfffff) * 97)
	}
}
