package store

import (
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/oxvec/oxvec/core/monitor"
)

// vectorsStore makes a store of n random dim-d vectors whose metadata
// holds "u" (uniform in [0, 1)), "g" (i % 10) and "v" (a version).
func vectorsStore(t *testing.T, n, d int, index string, opts Options) (*Store, []float32) {
	t.Helper()
	opts.Create = &Config{Dim: d, Metric: "l2", Index: []byte(index)}
	opts.Durability = Never
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rng := rand.New(rand.NewSource(7))
	b := Batch{}
	for i := 0; i < n; i++ {
		b.Keys = append(b.Keys, fmt.Sprint(i))
		for j := 0; j < d; j++ {
			b.Vectors = append(b.Vectors, float32(rng.NormFloat64()))
		}
		b.Metas = append(b.Metas, Meta{"u": rng.Float64(), "g": int64(i % 10), "v": int64(0)})
	}
	if err := s.Add(bg, b); err != nil {
		t.Fatal(err)
	}
	return s, b.Vectors
}

// bruteForce is the exact top k of q among the vectors whose index admit
// says so (ids are the keys' numbers).
func bruteForce(vecs []float32, d int, q []float32, k int, admit func(i int) bool) []string {
	type cand struct {
		i    int
		dist float64
	}
	var all []cand
	for i := 0; i*d < len(vecs); i++ {
		if admit != nil && !admit(i) {
			continue
		}
		var s float64
		for j := 0; j < d; j++ {
			x := float64(vecs[i*d+j] - q[j])
			s += x * x
		}
		all = append(all, cand{i, s})
	}
	sort.Slice(all, func(a, b int) bool { return all[a].dist < all[b].dist })
	var out []string
	for _, c := range all[:min(k, len(all))] {
		out = append(out, fmt.Sprint(c.i))
	}
	return out
}

func TestMonitoring_SearchesWritesErrorsCounted(t *testing.T) {
	s, vecs := vectorsStore(t, 200, 8, `{"type":"flat"}`, Options{})
	for i := 0; i < 5; i++ {
		if _, err := s.Search(bg, SearchRequest{Vectors: vecs[:8], K: 3}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Search(bg, SearchRequest{Vectors: vecs[:8], K: 0}); err == nil {
		t.Fatal("k=0 must fail")
	}
	if _, err := s.Delete(bg, []string{"1", "2"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Latency["search"].Count != 6 || st.Latency["add"].Count != 1 || st.Latency["delete"].Count != 1 {
		t.Fatalf("latency %+v", st.Latency)
	}
	if st.Errors["invalid_argument"] != 1 || st.Count != 198 || st.Memory.Index <= 0 || st.Memory.Records < 198*8*4 {
		t.Fatalf("%+v", st)
	}
	if st.Collection != s.mon.Name() || st.Plans["unfiltered"] != 5 {
		t.Fatalf("%+v", st)
	}
}

func TestMonitoring_RecallEstimateCoversMeasuredRecall(t *testing.T) {
	const n, d, nq, k = 1500, 24, 200, 10
	s, vecs := vectorsStore(t, n, d, `{"type":"hnsw","m":4,"ef_construction":16,"ef_search":10}`,
		Options{Monitor: monitor.Config{RecallPerSecond: 1e9}})
	rng := rand.New(rand.NewSource(3))
	var found, want int
	for q := 0; q < nq; q++ {
		query := make([]float32, d)
		for j := range query {
			query[j] = float32(rng.NormFloat64())
		}
		h, err := s.Search(bg, SearchRequest{Vectors: query, K: k})
		if err != nil {
			t.Fatal(err)
		}
		truth := map[string]bool{}
		for _, key := range bruteForce(vecs, d, query, k, nil) {
			truth[key] = true
		}
		for _, key := range h.Keys[0] {
			if truth[key] {
				found++
			}
		}
		want += k
	}
	s.FlushRecall()
	measured := float64(found) / float64(want)
	e := s.Stats().Recall
	if e == nil || e.N < nq/2 {
		t.Fatalf("estimate %+v after %d searches", e, nq)
	}
	if measured > 0.99 {
		t.Fatalf("measured recall %v: the test needs an index that misses", measured)
	}
	t.Logf("measured %.4f, estimate %+v", measured, e)
	if measured < e.Low || measured > e.High {
		t.Fatalf("measured recall %.4f outside the estimate %.4f [%.4f, %.4f] (n %d)", measured, e.Value, e.Low, e.High, e.N)
	}
}

func TestCache_HitsUntilAWriteNeverStale(t *testing.T) {
	s, vecs := vectorsStore(t, 300, 8, `{"type":"hnsw","m":8,"ef_construction":40}`, Options{Cache: CacheConfig{Entries: 64}})
	req := SearchRequest{Vectors: vecs[:8], K: 5, Include: Include{Metadatas: true}}
	var writes, checks atomic.Int64
	var writers, readers sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 2; w++ {
		writers.Add(1)
		go func(w int) {
			defer writers.Done()
			for v := int64(1); ; v++ {
				select {
				case <-stop:
					return
				default:
				}
				// record 0 is the query's nearest: its version changes
				if err := s.Update(bg, Batch{Keys: []string{"0"}, Metas: []Meta{{"v": v*2 + int64(w)}}}); err != nil {
					t.Error(err)
					return
				}
				writes.Add(1)
			}
		}(w)
	}
	for r := 0; r < 4; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := 0; i < 400; i++ {
				s1 := s.LastSeq()
				h, err := s.Search(bg, req)
				if err != nil {
					t.Error(err)
					return
				}
				g, err := s.Get([]string{"0"}, nil, nil, 0, 0, Include{Metadatas: true})
				if err != nil {
					t.Error(err)
					return
				}
				if s.LastSeq() != s1 {
					continue // a write came between: nothing to compare
				}
				checks.Add(1)
				if h.Keys[0][0] != "0" || fmt.Sprint(h.Metas[0][0]["v"]) != fmt.Sprint(g.Metas[0]["v"]) {
					t.Errorf("stale answer: search says v=%v, the record holds v=%v", h.Metas[0][0]["v"], g.Metas[0]["v"])
					return
				}
			}
		}()
	}
	readers.Wait()
	close(stop)
	writers.Wait()
	st := s.Stats()
	if writes.Load() == 0 {
		t.Fatal("no write ran")
	}
	t.Logf("%d writes, %d checked answers, cache %+v", writes.Load(), checks.Load(), st.Cache["results"])
	// quiet now: the same search twice is a hit
	before := st.Cache["results"].Hits
	s.Search(bg, req)
	s.Search(bg, req)
	if s.Stats().Cache["results"].Hits != before+1 {
		t.Fatalf("no hit without writes: %+v", s.Stats().Cache["results"])
	}
}
