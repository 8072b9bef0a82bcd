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

// BenchmarkRanking compares exact search's two ranking kernels on data
// that sits in L1, in multiply-adds per nanosecond ("fma/ns"): the 4x4 rank
// tile (16 dot products per call) and the 32x12 panel (384 per call).
func BenchmarkRanking(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	s := Current()
	for _, d := range []int{50, 128, 384, 768} {
		q, r := guarded(rng, 4*d, 0), guarded(rng, 4*d, 0)
		var out [16]float32
		var beta, bound [4]float32
		b.Run(fmt.Sprintf("tile4x4/%d", d), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				s.RankTile(q, r, d, -1, &beta, &bound, &out)
			}
			b.ReportMetric(float64(16*d)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "fma/ns")
		})
		if s.RankPanel == nil {
			continue
		}
		qt, x, pb := guarded(rng, PanelQueries*d, 0), guarded(rng, PanelRows*d, 0), guarded(rng, PanelRows, 0)
		var pout [PanelQueries * PanelRows]float32
		var pbound [PanelQueries]float32
		var masks [PanelRows]uint32
		b.Run(fmt.Sprintf("panel32x12/%d", d), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				s.RankPanel(qt, x, d, -1, pb, &pbound, &pout, &masks)
			}
			b.ReportMetric(float64(PanelQueries*PanelRows*d)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "fma/ns")
		})
	}
}
