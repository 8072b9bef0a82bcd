package go_tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"runtime"
	"sort"
	"sync"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"

	// every index type under test registers itself
	_ "github.com/oxvec/oxvec/core/indexes"
)

// typeCase is one index type as the conformance suite builds it.
type typeCase struct {
	spec      func(dim int, metric string) string
	minRecall float64 // recall@10 the type must reach on the suite's data
}

var cases = map[string]typeCase{
	"flat": {spec: func(d int, m string) string { return fmt.Sprintf(`{"type":"flat","dim":%d,"metric":%q}`, d, m) }, minRecall: 1},
	"hnsw": {spec: func(d int, m string) string {
		return fmt.Sprintf(`{"type":"hnsw","dim":%d,"metric":%q,"m":16,"ef_construction":100,"ef_search":64}`, d, m)
	}, minRecall: 0.95},
	"binary": {spec: func(d int, m string) string {
		return fmt.Sprintf(`{"type":"binary","dim":%d,"metric":%q,"rerank":100}`, d, m)
	}, minRecall: 0.9},
	"ivf_pq": {spec: func(d int, m string) string {
		return fmt.Sprintf(`{"type":"ivf_pq","dim":%d,"metric":%q,"nlist":16,"nprobe":8,"m":%d,"nbits":8,"refine":10}`, d, m, d/2)
	}, minRecall: 0.8},
	"opq": {spec: func(d int, m string) string {
		return fmt.Sprintf(`{"type":"opq","dim":%d,"metric":%q,"m":%d,"iters":4,"index":{"type":"pq","m":%d}}`, d, m, d/2, d/2)
	}, minRecall: 0.5},
	"pq": {spec: func(d int, m string) string {
		return fmt.Sprintf(`{"type":"pq","dim":%d,"metric":%q,"m":%d,"nbits":8}`, d, m, d/2)
	}, minRecall: 0.5},
	"sq": {spec: func(d int, m string) string {
		return fmt.Sprintf(`{"type":"sq","dim":%d,"metric":%q,"bits":8}`, d, m)
	}, minRecall: 0.9},
	"lsh": {spec: func(d int, m string) string {
		return fmt.Sprintf(`{"type":"lsh","dim":%d,"metric":%q,"tables":8,"bits":6,"nprobe":64}`, d, m)
	}, minRecall: 0.8},
	"diskann": {spec: func(d int, m string) string {
		return fmt.Sprintf(`{"type":"diskann","dim":%d,"metric":%q,"r":32,"l_build":64,"l_search":64}`, d, m)
	}, minRecall: 0.9},
	"ivf_flat": {spec: func(d int, m string) string {
		return fmt.Sprintf(`{"type":"ivf_flat","dim":%d,"metric":%q,"nlist":16,"nprobe":8}`, d, m)
	}, minRecall: 0.9},
}

// newIndex builds a case's index, trained on train when the type learns.
func newIndex(t *testing.T, c typeCase, d int, train []float32) index.Index {
	t.Helper()
	idx, err := index.New([]byte(c.spec(d, "l2")))
	if err != nil {
		t.Fatal(err)
	}
	if tr, ok := idx.(index.Trainer); ok {
		if err := tr.Train(bg, train); err != nil {
			t.Fatal(err)
		}
	}
	return idx
}

var bg = context.Background()

func TestConformance_EveryRegisteredTypeIsCovered(t *testing.T) {
	for _, name := range index.Types() {
		if _, ok := cases[name]; !ok {
			t.Errorf("index type %q is registered but has no conformance case", name)
		}
	}
}

func data(seed int64, n, d int) []float32 {
	rng := rand.New(rand.NewSource(seed))
	v := make([]float32, n*d)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func truth(base, q []float32, d, k int) [][]int64 {
	n, nq := len(base)/d, len(q)/d
	out := make([][]int64, nq)
	for i := 0; i < nq; i++ {
		type p struct {
			d  float64
			id int64
		}
		ps := make([]p, n)
		for r := 0; r < n; r++ {
			var s float64
			for j := 0; j < d; j++ {
				x := float64(q[i*d+j]) - float64(base[r*d+j])
				s += x * x
			}
			ps[r] = p{s, int64(r)}
		}
		sort.Slice(ps, func(a, b int) bool { return ps[a].d < ps[b].d || (ps[a].d == ps[b].d && ps[a].id < ps[b].id) })
		for j := 0; j < k; j++ {
			out[i] = append(out[i], ps[j].id)
		}
	}
	return out
}

func search(t *testing.T, idx index.Index, q []float32, k int) ([]int64, []float32) {
	t.Helper()
	nq := len(q) / idx.Dim()
	ids, dist := make([]int64, nq*k), make([]float32, nq*k)
	if err := idx.Search(bg, q, k, nil, ids, dist); err != nil {
		t.Fatal(err)
	}
	verified(t, idx, "search")
	return ids, dist
}

// verifyOn: with OXVEC_VERIFY=1 (make test sets it) every step of the
// suite checks the index's invariants with index.Verify, as bbolt's tests
// run its consistency check.
var verifyOn = os.Getenv("OXVEC_VERIFY") == "1"

// verified fails the test when OXVEC_VERIFY=1 and idx breaks an invariant
// after step.
func verified(t *testing.T, idx index.Index, step string) {
	t.Helper()
	if !verifyOn {
		return
	}
	if err := index.Verify(idx); err != nil {
		t.Fatalf("after %s: %v", step, err)
	}
}

func TestConformance(t *testing.T) {
	const d, n, nq, k = 24, 2000, 50, 10
	base, queries := data(1, n, d), data(2, nq, d)
	want := truth(base, queries, d, k)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			idx := newIndex(t, c, d, base)
			defer idx.Close()
			verified(t, idx, "training")

			ids, dist := search(t, idx, queries[:d], 3)
			for i := range ids {
				if ids[i] != -1 || !math.IsInf(float64(dist[i]), 1) {
					t.Fatalf("empty index must pad, got (%d, %v)", ids[i], dist[i])
				}
			}
			assigned := make([]int64, n)
			if err := idx.Add(bg, base, nil, assigned); err != nil {
				t.Fatal(err)
			}
			verified(t, idx, "add")
			for i, id := range assigned {
				if id != int64(i) {
					t.Fatalf("auto id %d = %d", i, id)
				}
			}

			got, dist := search(t, idx, queries, k)
			hits := 0
			for i := 0; i < nq; i++ {
				row := got[i*k : (i+1)*k]
				for j := 1; j < k; j++ {
					if dist[i*k+j] < dist[i*k+j-1] {
						t.Fatalf("query %d: distances not sorted", i)
					}
				}
				for _, g := range row {
					for _, w := range want[i] {
						if g == w {
							hits++
						}
					}
				}
			}
			if r := float64(hits) / (nq * k); r < c.minRecall {
				t.Fatalf("recall@%d = %.4f, want >= %.4f", k, r, c.minRecall)
			}

			removed := make([]int64, 0, n/2)
			for i := 0; i < n; i += 2 {
				removed = append(removed, int64(i))
			}
			if c, err := idx.Remove(bg, removed); err != nil || c != len(removed) {
				t.Fatalf("removed %d (%v), want %d", c, err, len(removed))
			}
			verified(t, idx, "remove")
			got, _ = search(t, idx, queries, k)
			for _, id := range got {
				if id >= 0 && id%2 == 0 {
					t.Fatalf("search returned removed id %d", id)
				}
			}

			var buf bytes.Buffer
			if err := idx.Save(&buf); err != nil {
				t.Fatal(err)
			}
			again, err := index.Load(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			verified(t, again, "load")
			if again.Len() != idx.Len() || again.Info().Type != name {
				t.Fatalf("reloaded %+v, saved %+v", again.Info(), idx.Info())
			}
			a, _ := search(t, idx, queries, k)
			b, _ := search(t, again, queries, k)
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("result %d differs after save/load: %d vs %d", i, a[i], b[i])
				}
			}

			// after removes and a reload: a present id is refused by every
			// type (hnsw too, where hnswlib replaces), a removed one may come
			// back, auto ids continue after the largest
			one := data(9, 1, d)
			if err := again.Add(bg, one, []int64{1}, nil); !errors.Is(err, errs.DuplicateID) {
				t.Fatalf("adding present id 1: %v", err)
			}
			if err := again.Add(bg, one, []int64{0}, nil); err != nil {
				t.Fatalf("adding removed id 0 back: %v", err)
			}
			auto := make([]int64, 1)
			if err := again.Add(bg, one, nil, auto); err != nil || auto[0] != int64(n) {
				t.Fatalf("auto id %d (%v), want %d", auto[0], err, n)
			}
			verified(t, again, "adds after a reload")
		})
	}
}

func TestConformance_ConcurrentUse(t *testing.T) {
	const d = 16
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			idx := newIndex(t, c, d, data(3, 500, d))
			defer idx.Close()
			idx.Add(bg, data(3, 500, d), nil, nil)
			var wg sync.WaitGroup
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					q := data(int64(10+w), 4, d)
					ids, dist := make([]int64, 40), make([]float32, 40)
					for i := 0; i < 50; i++ {
						if w%2 == 0 {
							got := make([]int64, 5)
							if err := idx.Add(bg, data(int64(100*w+i), 5, d), nil, got); err != nil {
								t.Error(err)
								return
							}
							idx.Remove(bg, got[:2])
						} else if err := idx.Search(bg, q, 10, nil, ids, dist); err != nil {
							t.Error(err)
							return
						}
					}
				}(w)
			}
			wg.Wait()
			verified(t, idx, "concurrent adds, removes and searches")
			if got, want := idx.Len(), 500+2*50*3; got != want {
				t.Fatalf("len %d, want %d", got, want)
			}
		})
	}
}

// TestConformance_HugeKCostsWhatTheIndexHolds searches 5 vectors for a k of
// 2^20 with ef and nprobe far beyond the index: the rows come back with the
// 5 results and padding, and the call allocates about nothing, because every
// heap, candidate list and re-rank buffer is sized by the 5 vectors, not by
// k (or k times the re-rank factor: binary's 100 would be 1.2 GB here). The
// outputs themselves must hold nq*k, so k stays at 2^20.
func TestConformance_HugeKCostsWhatTheIndexHolds(t *testing.T) {
	const d, n, nq, k = 24, 5, 2, 1 << 20
	train, queries := data(4, 400, d), data(5, nq, d)
	ids, dist := make([]int64, nq*k), make([]float32, nq*k)
	p := &index.SearchParams{Ef: 1 << 40, NProbe: 1 << 40}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			idx := newIndex(t, c, d, train)
			defer idx.Close()
			if err := idx.Add(bg, train[:n*d], nil, nil); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if err := idx.Search(bg, queries, k, p, ids, dist); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Errorf("a search for k = %d over %d vectors allocated %d bytes", k, n, got)
			}
			verified(t, idx, "a huge-k search")
			for q := 0; q < nq; q++ {
				row, rd := ids[q*k:(q+1)*k], dist[q*k:(q+1)*k]
				found := 0
				for i, id := range row {
					switch {
					case id >= 0 && i == found && id < n:
						found++
					case id != -1 || !math.IsInf(float64(rd[i]), 1):
						t.Fatalf("query %d, column %d: (%d, %v) after %d results", q, i, id, rd[i], found)
					}
				}
				if found == 0 || (c.minRecall == 1 && found != n) {
					t.Fatalf("query %d: %d results of %d vectors", q, found, n)
				}
			}
		})
	}
}
