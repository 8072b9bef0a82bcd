package index

import (
	"math"
	"math/rand"
	"sort"
	"testing"
)

func TestTopK_KeepsSmallestSortedWithIDTieBreak(t *testing.T) {
	seed := int64(7)
	rng := rand.New(rand.NewSource(seed))
	for trial := 0; trial < 200; trial++ {
		n := rng.Intn(60)
		k := 1 + rng.Intn(20)
		type pair struct {
			d  float32
			id int64
		}
		all := make([]pair, n)
		for i := range all {
			// few distinct distances, so ties are common
			all[i] = pair{float32(rng.Intn(8)), int64(rng.Intn(1000))}
		}
		dist := make([]float32, k)
		ids := make([]int64, k)
		var h TopK
		h.Reset(dist, ids)
		for _, p := range all {
			h.Push(p.d, p.id)
		}
		h.Finish()
		sort.Slice(all, func(i, j int) bool {
			return all[i].d < all[j].d || (all[i].d == all[j].d && all[i].id < all[j].id)
		})
		for i := 0; i < k; i++ {
			if i < n {
				if dist[i] != all[i].d || ids[i] != all[i].id {
					t.Fatalf("seed %d trial %d: rank %d got (%v,%d) want (%v,%d)", seed, trial, i, dist[i], ids[i], all[i].d, all[i].id)
				}
			} else if ids[i] != -1 || !math.IsInf(float64(dist[i]), 1) {
				t.Fatalf("trial %d: rank %d not padded: (%v,%d)", trial, i, dist[i], ids[i])
			}
		}
	}
}

func TestTopK_MergeEqualsSinglePass(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	k := 10
	var a, b, all TopK
	da, ia := make([]float32, k), make([]int64, k)
	db, ib := make([]float32, k), make([]int64, k)
	dall, iall := make([]float32, k), make([]int64, k)
	a.Reset(da, ia)
	b.Reset(db, ib)
	all.Reset(dall, iall)
	for i := 0; i < 100; i++ {
		d := rng.Float32()
		if i%2 == 0 {
			a.Push(d, int64(i))
		} else {
			b.Push(d, int64(i))
		}
		all.Push(d, int64(i))
	}
	a.Merge(&b)
	a.Finish()
	all.Finish()
	for i := range da {
		if da[i] != dall[i] || ia[i] != iall[i] {
			t.Fatalf("rank %d: merged (%v,%d) single (%v,%d)", i, da[i], ia[i], dall[i], iall[i])
		}
	}
}

func TestTopK_BoundIsInfUntilFull(t *testing.T) {
	var h TopK
	h.Reset(make([]float32, 2), make([]int64, 2))
	if !math.IsInf(float64(h.Bound()), 1) {
		t.Fatal("empty heap must accept anything")
	}
	h.Push(3, 1)
	h.Push(5, 2)
	if h.Bound() != 5 {
		t.Fatalf("bound = %v, want 5", h.Bound())
	}
}
