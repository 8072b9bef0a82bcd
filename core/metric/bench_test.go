package metric

import (
	"context"
	"math/rand"
	"testing"

	"github.com/oxvec/oxvec/core/parallel"
)

func benchPairwise(b *testing.B, kind Kind, d int) {
	rng := rand.New(rand.NewSource(1))
	x := make([]float32, 1000*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	m, err := New(kind, d, Params{})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]float32, 1000*1000)
	parallel.SetWorkers(1)
	defer parallel.SetWorkers(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.Pairwise(context.Background(), x, x, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds()/1e6, "Mpairs/s")
}

func BenchmarkPairwise_L2(b *testing.B)        { benchPairwise(b, L2, 128) }
func BenchmarkPairwise_Chebyshev(b *testing.B) { benchPairwise(b, Chebyshev, 128) }
func BenchmarkPairwise_Canberra(b *testing.B)  { benchPairwise(b, Canberra, 128) }
func BenchmarkPairwise_Manhattan(b *testing.B) { benchPairwise(b, Manhattan, 128) }
