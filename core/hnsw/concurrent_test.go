package hnsw

import (
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/oxvec/oxvec/core/index"
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

// TestHNSW_CompactDuringAdd_LinksTheRightNodes: Compact renumbers nodes,
// and an Add links the slots it reserved a moment before; a Compact that
// ran in between made the Add link renumbered slots (nodes with another's
// vector, lists naming the wrong nodes). Compact now waits for reserved
// nodes to be linked; every vector added stays findable as itself.
func TestHNSW_CompactDuringAdd_LinksTheRightNodes(t *testing.T) {
	const d = 16
	base, _ := baseAndQueries(3, 500, 1, d)
	h := build(t, metric.L2, d, base, Params{EfConstruction: 32})
	var stop atomic.Bool
	var cw sync.WaitGroup
	cw.Add(1)
	go func() {
		defer cw.Done()
		for !stop.Load() {
			if err := h.Compact(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var ww sync.WaitGroup
	added := make([][]float32, 2)
	addedIDs := make([][]int64, 2)
	for w := 0; w < 2; w++ {
		ww.Add(1)
		go func(w int) {
			defer ww.Done()
			r := rand.New(rand.NewSource(int64(w + 11)))
			for it := 0; it < 20; it++ {
				x := make([]float32, 10*d)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				out := make([]int64, 10)
				if err := h.Add(bg, x, nil, out); err != nil {
					t.Error(err)
					return
				}
				if _, err := h.Remove(bg, out[:3]); err != nil { // holes for Compact to close
					t.Error(err)
					return
				}
				added[w] = append(added[w], x[3*d:]...)
				addedIDs[w] = append(addedIDs[w], out[3:]...)
			}
		}(w)
	}
	ww.Wait()
	stop.Store(true)
	cw.Wait()
	if err := h.Verify(); err != nil {
		t.Fatal(err)
	}
	ids, dist := make([]int64, 1), make([]float32, 1)
	for w := range added {
		for i, id := range addedIDs[w] {
			if err := h.Search(bg, added[w][i*d:(i+1)*d], 1, &index.SearchParams{Ef: 64}, ids, dist); err != nil {
				t.Fatal(err)
			}
			if ids[0] != id || dist[0] != 0 {
				t.Fatalf("vector of id %d finds id %d at %v", id, ids[0], dist[0])
			}
		}
	}
}
