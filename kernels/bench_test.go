package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

func BenchmarkKernels(b *testing.B) {
	saved := Current().Level
	defer SetLevel(saved)
	rng := rand.New(rand.NewSource(1))
	for l := Generic; l <= AVX512; l++ {
		if SetLevel(l) != nil {
			continue
		}
		s := Current()
		for _, d := range []int{128, 384, 768, 1536} {
			x, y := guarded(rng, d, 0), guarded(rng, d, 0)
			b.Run(fmt.Sprintf("%v/dot/%d", l, d), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					s.Dot(x, y)
				}
			})
			b.Run(fmt.Sprintf("%v/l2sq/%d", l, d), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					s.L2Sq(x, y)
				}
			})
			q, r := guarded(rng, 4*d, 0), guarded(rng, 4*d, 0)
			var out [16]float32
			var beta, bound [4]float32
			b.Run(fmt.Sprintf("%v/tile4x4/%d", l, d), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					s.RankTile(q, r, d, -1, &beta, &bound, &out)
				}
			})
		}
	}
}
