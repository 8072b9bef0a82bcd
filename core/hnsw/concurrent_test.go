package hnsw

import (
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/oxvec/oxvec/core/metric"
)

// TestHNSW_SearchDuringAddAndRemove_NeverReturnsAShortRow: searches that
// run while other goroutines add and remove must still find k results in a
// graph of thousands (a node linked top-down used to be reachable at an
// upper level before its level-0 list existed, and a removal could make an
// unlinked node the entry point: both gave rows of one result).
func TestHNSW_SearchDuringAddAndRemove_NeverReturnsAShortRow(t *testing.T) {
	trials := 6
	if raceEnabled {
		trials = 1
	}
	for trial := 0; trial < trials; trial++ {
		base, _ := baseAndQueries(int64(trial), 2000, 1, 16)
		h := build(t, metric.L2, 16, base, Params{EfConstruction: 64})
		var stop atomic.Bool
		var wg sync.WaitGroup
		var bad atomic.Int64
		for s := 0; s < 3; s++ {
			wg.Add(1)
			go func(seed int64) {
				defer wg.Done()
				r := rand.New(rand.NewSource(seed))
				q := make([]float32, 4*16)
				ids, dist := make([]int64, 40), make([]float32, 40)
				for !stop.Load() {
					for i := range q {
						q[i] = float32(r.NormFloat64())
					}
					if err := h.Search(bg, q, 10, nil, ids, dist); err != nil {
						t.Error(err)
						return
					}
					for i := 0; i < 4; i++ {
						if ids[i*10+1] < 0 {
							if bad.Add(1) == 1 {
								t.Logf("trial %d: a row of one result: %v", trial, ids[i*10:i*10+3])
							}
						}
					}
				}
			}(int64(s))
		}
		var ww sync.WaitGroup
		for w := 0; w < 2; w++ {
			ww.Add(1)
			go func(seed int64) {
				defer ww.Done()
				r := rand.New(rand.NewSource(seed))
				for it := 0; it < 30; it++ {
					x := make([]float32, 20*16)
					for i := range x {
						x[i] = float32(r.NormFloat64())
					}
					out := make([]int64, 20)
					if err := h.Add(bg, x, nil, out); err != nil {
						t.Error(err)
						return
					}
					if _, err := h.Remove(bg, out[:10]); err != nil {
						t.Error(err)
						return
					}
				}
			}(int64(w + 7))
		}
		ww.Wait()
		stop.Store(true)
		wg.Wait()
		if bad.Load() > 0 {
			t.Fatalf("trial %d: %d short rows", trial, bad.Load())
		}
	}
}
