package loadgen

import (
	"math"
	"math/bits"
)

// subBits sets the precision of a Histogram: every power of two is split into
// 1<<subBits buckets, so a recorded value is known within 1/128 (0.8%).
const subBits = 7

// maxTrackable is the largest value a Histogram keeps apart; larger values
// count as this one. In nanoseconds it is about 18 minutes.
const maxTrackable = 1<<40 - 1

// Histogram counts non-negative values (latencies in nanoseconds) in
// log-linear buckets, in the manner of HdrHistogram: values below 256 are kept
// exactly, larger ones with a relative error under 1%, in a fixed 35 KiB
// whatever the number of values. The zero value is not usable; call
// NewHistogram. A Histogram is not safe for concurrent use.
type Histogram struct {
	counts   []uint64
	total    uint64
	min, max int64
	sum      float64
}

// NewHistogram returns an empty Histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, bucketIndex(maxTrackable)+1), min: math.MaxInt64}
}

// bucketIndex returns the bucket that holds v (0 <= v <= maxTrackable).
func bucketIndex(v int64) int {
	const linear = 2 << subBits // values below this have a bucket each
	if v < linear {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	top := int(v>>uint(shift)) - (1 << subBits) // 0 .. 1<<subBits - 1
	return linear + (shift-1)<<subBits + top
}

// bucketBounds returns the smallest and largest values that fall in bucket i.
func bucketBounds(i int) (lo, hi int64) {
	const linear = 2 << subBits
	if i < linear {
		return int64(i), int64(i)
	}
	i -= linear
	shift := uint(i>>subBits) + 1
	top := int64(i&(1<<subBits-1)) + 1<<subBits
	lo = top << shift
	return lo, lo + 1<<shift - 1
}

// Record adds one value; negative values count as 0.
func (h *Histogram) Record(v int64) {
	v = max(v, 0)
	h.counts[bucketIndex(min(v, maxTrackable))]++
	h.total++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds all values of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Min returns the smallest recorded value, or 0 when there is none.
func (h *Histogram) Min() int64 {
	if h.total == 0 {
		return 0
	}
	return h.min
}

// Max returns the largest recorded value, or 0 when there is none.
func (h *Histogram) Max() int64 { return h.max }

// Mean returns the average of the recorded values, or 0 when there is none.
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return h.sum / float64(h.total)
}

// Quantile returns the value below or at which a fraction q (0..1) of the
// recorded values fall: the upper end of the bucket holding that rank, never
// more than Max. It returns 0 for an empty Histogram.
func (h *Histogram) Quantile(q float64) int64 {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketBounds(i)
			return min(max(hi, h.min), h.max)
		}
	}
	return h.max
}
