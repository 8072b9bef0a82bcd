package lsh

import (
	"testing"

	"github.com/oxvec/oxvec/core/index"
)

// BenchmarkSearch is the search loop on clustered data (go test -bench,
// for profiles; the comparisons with peers are in benchmarks/bench_lsh.py).
func BenchmarkSearch(b *testing.B) {
	const d, n, nq, k = 128, 10000, 100, 10
	x := clustered(n+nq, d, 11)
	base, q := x[:n*d], x[n*d:]
	idx, _ := index.New([]byte(`{"type":"lsh","dim":128,"metric":"l2","tables":8,"bits":8}`))
	idx.(index.Trainer).Train(bg, base)
	idx.Add(bg, base, nil, nil)
	ids, dist := make([]int64, nq*k), make([]float32, nq*k)
	b.ResetTimer()
	for range b.N {
		idx.Search(bg, q, k, &index.SearchParams{NProbe: 16}, ids, dist)
	}
}
