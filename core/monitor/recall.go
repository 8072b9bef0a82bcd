package monitor

import (
	"math"
	"sync"
)

// RecallWindow keeps the recall of the last queries re-run exactly (a
// ring of per-query recalls), so that the estimate follows the index as
// it changes.
type RecallWindow struct {
	mu    sync.Mutex
	ring  []float64
	next  int
	full  bool
	total uint64 // samples ever taken
}

// NewRecallWindow keeps the last n samples.
func NewRecallWindow(n int) *RecallWindow {
	if n < 1 {
		n = 1
	}
	return &RecallWindow{ring: make([]float64, n)}
}

// Add records the recall of one sampled query (found of want true
// neighbours returned).
func (r *RecallWindow) Add(found, want int) {
	if want <= 0 {
		return
	}
	v := float64(found) / float64(want)
	r.mu.Lock()
	r.ring[r.next] = v
	r.next++
	if r.next == len(r.ring) {
		r.next, r.full = 0, true
	}
	r.total++
	r.mu.Unlock()
}

// Estimate is the mean recall of the samples with its confidence interval.
type Estimate struct {
	Value      float64 `json:"value"`
	N          int     `json:"n"` // queries in the estimate
	Low        float64 `json:"low"`
	High       float64 `json:"high"`
	Confidence float64 `json:"confidence"`
	Sampled    uint64  `json:"sampled"` // queries ever sampled
}

// z95 is the normal quantile of a two-sided 95% interval.
const z95 = 1.959963984540054

// Estimate is nil before the first sample. The interval is Wilson's score
// interval for a proportion with n trials: a per-query recall lies in
// [0, 1], so its variance is at most p(1-p), the Bernoulli variance the
// interval assumes - it is conservative for a mean of recalls.
func (r *RecallWindow) Estimate() *Estimate {
	r.mu.Lock()
	n := r.next
	if r.full {
		n = len(r.ring)
	}
	var sum float64
	for _, v := range r.ring[:n] {
		sum += v
	}
	total := r.total
	r.mu.Unlock()
	if n == 0 {
		return nil
	}
	p := sum / float64(n)
	lo, hi := Wilson(p, n, z95)
	return &Estimate{Value: p, N: n, Low: lo, High: hi, Confidence: 0.95, Sampled: total}
}

// Wilson is the score interval of a proportion p observed over n trials.
func Wilson(p float64, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	nf := float64(n)
	z2 := z * z
	den := 1 + z2/nf
	mid := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, mid-half), math.Min(1, mid+half)
}
