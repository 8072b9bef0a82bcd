package ivf

import (
	"context"
	"math/rand"
	"testing"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
)

// BenchmarkSearch_20kx128_nlist128_nprobe8: one thread, 1,000 queries over
// 20,000 clustered vectors, k = 10.
func BenchmarkSearch_20kx128_nlist128_nprobe8(b *testing.B) {
	parallel.SetWorkers(1)
	defer parallel.SetWorkers(0)
	const n, nq, d = 20000, 1000, 128
	r := rand.New(rand.NewSource(1))
	centres := make([]float32, 64*d)
	for i := range centres {
		centres[i] = float32(r.NormFloat64() * 4)
	}
	x := make([]float32, (n+nq)*d)
	for i := 0; i < n+nq; i++ {
		c := r.Intn(64)
		for j := 0; j < d; j++ {
			x[i*d+j] = centres[c*d+j] + float32(r.NormFloat64())
		}
	}
	base, queries := x[:n*d], x[n*d:]
	m, _ := metric.New(metric.L2, d, metric.Params{})
	idx, err := New(d, m, 128, 8, 1)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := idx.Train(ctx, base); err != nil {
		b.Fatal(err)
	}
	if err := idx.Add(ctx, base, nil, nil); err != nil {
		b.Fatal(err)
	}
	ids, dist := make([]int64, nq*10), make([]float32, nq*10)
	p := &index.SearchParams{NProbe: 8}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := idx.Search(ctx, queries, 10, p, ids, dist); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*nq)/b.Elapsed().Seconds(), "qps")
}
