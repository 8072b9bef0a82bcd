package hnsw

import (
	"testing"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
)

func BenchmarkSearch_10kx128_ef64(b *testing.B) {
	parallel.SetWorkers(1)
	defer parallel.SetWorkers(0)
	base, queries := baseAndQueries(1, 10000, 1000, 128)
	h := build(b, metric.L2, 128, base, Params{})
	ids, dist := make([]int64, 1000*10), make([]float32, 1000*10)
	p := &index.SearchParams{Ef: 64}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := h.Search(bg, queries, 10, p, ids, dist); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "qps")
}

func BenchmarkBuild_10kx128(b *testing.B) {
	parallel.SetWorkers(1)
	defer parallel.SetWorkers(0)
	base := clustered(1, 10000, 128)
	for i := 0; i < b.N; i++ {
		build(b, metric.L2, 128, base, Params{})
	}
}
