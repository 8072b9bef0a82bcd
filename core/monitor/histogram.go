package monitor

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Buckets: bucket 0 holds everything under 1.024 us; above, four buckets
// per doubling (the two bits after the leading one), up to 2^34 ns (17 s);
// the last bucket holds everything longer.
const (
	minShift = 10 // 2^10 ns, about 1 us
	subBits  = 2
	nBuckets = (34-minShift)<<subBits + 2
)

// bucketOf maps a duration in ns to its bucket.
func bucketOf(ns int64) int {
	if ns < 1<<minShift {
		return 0
	}
	l := bits.Len64(uint64(ns)) - 1 // floor(log2 ns)
	sub := int(uint64(ns)>>(l-subBits)) & (1<<subBits - 1)
	b := (l-minShift)<<subBits + sub + 1
	if b >= nBuckets {
		return nBuckets - 1
	}
	return b
}

// bucketBounds is the range [lo, hi) in ns that bucket b covers.
func bucketBounds(b int) (lo, hi float64) {
	if b == 0 {
		return 0, 1 << minShift
	}
	l := (b-1)>>subBits + minShift
	sub := (b - 1) & (1<<subBits - 1)
	base := math.Ldexp(1, l)
	step := base / (1 << subBits)
	lo = base + float64(sub)*step
	return lo, lo + step
}

// slot is one time slice of a window.
type slot struct {
	epoch  atomic.Int64 // which slice of time it holds (now / slot length)
	n      atomic.Uint64
	errors atomic.Uint64
	counts [nBuckets]atomic.Uint32
}

// Window is a latency histogram over the last Slots x SlotLength of time,
// with exact totals since it was made.
type Window struct {
	slotLen int64 // ns
	slots   []slot
	base    time.Time

	total  atomic.Uint64 // every operation recorded
	sumNs  atomic.Uint64 // and their summed duration
	failed atomic.Uint64
}

// NewWindow makes a window of n slots of length each (n >= 2).
func NewWindow(n int, length time.Duration, base time.Time) *Window {
	if n < 2 {
		n = 2
	}
	if length <= 0 {
		length = 5 * time.Second
	}
	w := &Window{slotLen: int64(length), slots: make([]slot, n), base: base}
	for i := range w.slots {
		w.slots[i].epoch.Store(-1)
	}
	return w
}

// Record counts one operation that took d and ended at end (failed: it
// returned an error).
func (w *Window) Record(end time.Time, d time.Duration, failed bool) {
	ep := int64(end.Sub(w.base)) / w.slotLen
	sl := &w.slots[ep%int64(len(w.slots))]
	for {
		old := sl.epoch.Load()
		if old == ep {
			break
		}
		if old > ep {
			// the op ended a whole window before the slot's time: it counts
			// in the totals only
			w.addTotals(d, failed)
			return
		}
		if sl.epoch.CompareAndSwap(old, ep) {
			// this recorder rotated the slot: clear what it held
			sl.n.Store(0)
			sl.errors.Store(0)
			for i := range sl.counts {
				sl.counts[i].Store(0)
			}
			break
		}
	}
	sl.counts[bucketOf(int64(d))].Add(1)
	sl.n.Add(1)
	if failed {
		sl.errors.Add(1)
	}
	w.addTotals(d, failed)
}

func (w *Window) addTotals(d time.Duration, failed bool) {
	w.total.Add(1)
	if d > 0 {
		w.sumNs.Add(uint64(d))
	}
	if failed {
		w.failed.Add(1)
	}
}

// Summary is what a window says at one moment.
type Summary struct {
	Count  uint64  `json:"count"`  // operations in the window
	Errors uint64  `json:"errors"` // of which failed
	P50    float64 `json:"p50_ms"`
	P95    float64 `json:"p95_ms"`
	P99    float64 `json:"p99_ms"`
	PerSec float64 `json:"per_s"`  // operations per second over the window
	Total  uint64  `json:"total"`  // operations since the store opened
	SumSec float64 `json:"sum_s"`  // their summed duration
	Failed uint64  `json:"failed"` // failed operations since the store opened
	Span   float64 `json:"span_s"` // the seconds the window covers now
}

// Summarize reads the window at now.
func (w *Window) Summarize(now time.Time) Summary {
	since := int64(now.Sub(w.base))
	ep := since / w.slotLen
	oldest := ep - int64(len(w.slots)) + 1
	var counts [nBuckets]uint64
	var s Summary
	for i := range w.slots {
		sl := &w.slots[i]
		if e := sl.epoch.Load(); e < oldest || e > ep {
			continue
		}
		s.Count += sl.n.Load()
		s.Errors += sl.errors.Load()
		for b := range sl.counts {
			counts[b] += uint64(sl.counts[b].Load())
		}
	}
	span := float64(int64(len(w.slots)-1)*w.slotLen+since%w.slotLen) / 1e9
	if full := float64(since) / 1e9; full < span {
		span = full
	}
	s.Span = span
	if span > 0 {
		s.PerSec = float64(s.Count) / span
	}
	s.P50, s.P95, s.P99 = quantile(&counts, 0.50), quantile(&counts, 0.95), quantile(&counts, 0.99)
	s.Total, s.Failed = w.total.Load(), w.failed.Load()
	s.SumSec = float64(w.sumNs.Load()) / 1e9
	return s
}

// quantile reads the q-quantile in ms from bucket counts, interpolating
// linearly inside the bucket it falls in; 0 for no operations.
func quantile(counts *[nBuckets]uint64, q float64) float64 {
	var n uint64
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := q * float64(n)
	var seen float64
	for b, c := range counts {
		if c == 0 {
			continue
		}
		if seen+float64(c) >= rank {
			lo, hi := bucketBounds(b)
			f := (rank - seen) / float64(c)
			return (lo + f*(hi-lo)) / 1e6
		}
		seen += float64(c)
	}
	lo, _ := bucketBounds(nBuckets - 1)
	return lo / 1e6
}
