package index

import (
	"math"

	"github.com/oxvec/oxvec/kernels"
)

// NextCandidate returns the smallest j >= i with sign*(base+scores[j]) <=
// bound (sign +1 or -1), or len(scores): where a list or code scan's next
// score may enter a top-k whose bound is bound. Once the heap is full
// almost no score does, and the FirstAtMost / FirstAtLeast kernels skip to
// it 16 scores per compare, where a compare and branch per score cost up
// to a fifth of the scan. It may also stop at a score within a rounding
// error of the bound: callers test the score exactly.
func NextCandidate(ks *kernels.Set, scores []float32, i int, sign, base, bound float32) int {
	slack := 1e-6 * float32(math.Abs(float64(bound))+math.Abs(float64(base)))
	if sign > 0 {
		return i + ks.FirstAtMost(scores[i:], bound-base+slack)
	}
	return i + ks.FirstAtLeast(scores[i:], -bound-base-slack)
}
