package index

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oxvec/oxvec/kernels"
)

func TestNextCandidate_StopsAtEveryScoreThatCanEnter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	defer kernels.SetLevel(kernels.Best())
	for level := kernels.Generic; level <= kernels.Best(); level++ {
		if kernels.SetLevel(level) != nil {
			continue
		}
		ks := kernels.Current()
		for trial := range 200 {
			scores := make([]float32, r.IntN(70))
			for i := range scores {
				scores[i] = float32(r.IntN(100))/8 - 6
			}
			sign := float32(1 - 2*r.IntN(2))
			base := float32(r.IntN(9)) / 4
			bound := float32(r.IntN(20))/8 - 1
			if trial%10 == 0 {
				bound = float32(math.Inf(1))
			}
			var got []int
			for i := NextCandidate(ks, scores, 0, sign, base, bound); i < len(scores); i = NextCandidate(ks, scores, i+1, sign, base, bound) {
				if sign*(base+scores[i]) <= bound {
					got = append(got, i)
				}
			}
			var want []int
			for i, v := range scores {
				if sign*(base+v) <= bound {
					want = append(want, i)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%v sign %v base %v bound %v: stopped at %v, want %v", level, sign, base, bound, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%v: stopped at %v, want %v", level, got, want)
				}
			}
		}
	}
}
