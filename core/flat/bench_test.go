package flat

import (
	"math/rand"
	"testing"

	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
)

func benchSearch(b *testing.B, n, d, nq, k int) {
	rng := rand.New(rand.NewSource(1))
	f, _ := Of(d, metric.L2)
	f.Add(bg, randVecs(rng, n, d), nil, nil)
	q := randVecs(rng, nq, d)
	ids := make([]int64, nq*k)
	dist := make([]float32, nq*k)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := f.Search(bg, q, k, nil, ids, dist); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSearch_1x1(b *testing.B)       { benchSearch(b, 1, 128, 1, 10) }
func BenchmarkSearch_1x10000(b *testing.B)   { benchSearch(b, 10000, 128, 1, 10) }
func BenchmarkSearch_100x10000(b *testing.B) { benchSearch(b, 10000, 128, 100, 10) }

func BenchmarkSearch_1000x9000_1thread(b *testing.B) {
	parallel.SetWorkers(1)
	defer parallel.SetWorkers(0)
	benchSearch(b, 9000, 128, 1000, 10)
}
