package lsh

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

var bg = context.Background()

// clustered returns n points around n/40 Gaussian centres in d dimensions:
// neighbours that are nearer than random points, as in real embeddings.
func clustered(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	centres := make([]float32, (n/40+1)*d)
	for i := range centres {
		centres[i] = float32(r.NormFloat64())
	}
	x := make([]float32, n*d)
	for i := range n {
		c := r.IntN(n/40 + 1)
		for j := range d {
			x[i*d+j] = centres[c*d+j] + 0.3*float32(r.NormFloat64())
		}
	}
	return x
}

func build(t *testing.T, spec string, train, base []float32) index.Index {
	t.Helper()
	idx, err := index.New([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	if train != nil {
		if err := idx.(index.Trainer).Train(bg, train); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.Add(bg, base, nil, nil); err != nil {
		t.Fatal(err)
	}
	return idx
}

// recall is the share of exact top-k ids (a flat index of the same metric)
// that idx finds, with nprobe probes.
func recall(t *testing.T, idx index.Index, kind metric.Kind, base, q []float32, k, nprobe int) float64 {
	t.Helper()
	d := idx.Dim()
	nq := len(q) / d
	ref, _ := flat.Of(d, kind)
	ref.Add(bg, base, nil, nil)
	want, wd := make([]int64, nq*k), make([]float32, nq*k)
	ref.Search(bg, q, k, nil, want, wd)
	got, gd := make([]int64, nq*k), make([]float32, nq*k)
	if err := idx.Search(bg, q, k, &index.SearchParams{NProbe: nprobe}, got, gd); err != nil {
		t.Fatal(err)
	}
	hits := 0
	for i := range nq {
		truth := map[int64]bool{}
		for _, id := range want[i*k : (i+1)*k] {
			truth[id] = true
		}
		for j, id := range got[i*k : (i+1)*k] {
			if j > 0 && gd[i*k+j] < gd[i*k+j-1] {
				t.Fatalf("query %d: distances not sorted: %v", i, gd[i*k:(i+1)*k])
			}
			if truth[id] {
				hits++
			}
		}
	}
	return float64(hits) / float64(nq*k)
}

func TestLSH_SimHashRecallGrowsWithProbes(t *testing.T) {
	const d, n, k = 32, 4000, 10
	base := clustered(n+100, d, 1)
	q, base := base[n*d:], base[:n*d]
	idx := build(t, `{"type":"lsh","dim":32,"metric":"cosine","tables":6,"bits":14}`, nil, base)
	one, many := recall(t, idx, metric.Cosine, base, q, k, 1), recall(t, idx, metric.Cosine, base, q, k, 64)
	t.Logf("cosine recall@10: %.3f with 1 probe, %.3f with 64", one, many)
	if many < 0.9 || many <= one {
		t.Fatalf("recall@10 %.3f with 64 probes per table (1 probe: %.3f), want >= 0.9 and more", many, one)
	}
}

func TestLSH_PStableRecallAfterTrainingWidth(t *testing.T) {
	const d, n, k = 32, 4000, 10
	base := clustered(n+100, d, 2)
	q, base := base[n*d:], base[:n*d]
	idx := build(t, `{"type":"lsh","dim":32,"metric":"l2","tables":8,"bits":8}`, base, base)
	if w := idx.(*LSH).w; w <= 0 {
		t.Fatalf("train left w %g", w)
	}
	one, many := recall(t, idx, metric.L2, base, q, k, 1), recall(t, idx, metric.L2, base, q, k, 64)
	t.Logf("l2 recall@10: %.3f with 1 probe, %.3f with 64", one, many)
	if many < 0.9 || many <= one {
		t.Fatalf("recall@10 %.3f with 64 probes per table (1 probe: %.3f), want >= 0.9 and more", many, one)
	}
}

// sets returns n random sets of about 30 members among d, as 0/1 vectors,
// and for each of the first nq a near duplicate (two members swapped for
// others: jaccard similarity about 0.88).
func sets(n, nq, d int, seed uint64) (base, q []float32) {
	r := rand.New(rand.NewPCG(seed, 9))
	base = make([]float32, n*d)
	for i := range n {
		for range 30 {
			base[i*d+r.IntN(d)] = 1
		}
	}
	q = append([]float32(nil), base[:nq*d]...)
	for i := range nq {
		for swapped := 0; swapped < 2; {
			j := r.IntN(d)
			if q[i*d+j] == 1 {
				q[i*d+j] = 0
				q[i*d+r.IntN(d)] = 1
				swapped++
			}
		}
	}
	return base, q
}

func TestLSH_MinHashFindsNearDuplicates(t *testing.T) {
	const d, n, nq = 512, 3000, 200
	base, q := sets(n, nq, d, 3)
	idx := build(t, `{"type":"lsh","dim":512,"metric":"jaccard","bands":20,"rows":5}`, nil, base)
	ids, dist := make([]int64, nq), make([]float32, nq)
	if err := idx.Search(bg, q, 1, nil, ids, dist); err != nil {
		t.Fatal(err)
	}
	m, _ := metric.New(metric.Jaccard, d, metric.Params{})
	found := 0
	for i := range nq {
		if ids[i] == int64(i) {
			found++
			if want := m.Pair(q[i*d:(i+1)*d], base[i*d:(i+1)*d]); float32(want) != dist[i] {
				t.Fatalf("query %d: distance %g, exact jaccard %g", i, dist[i], want)
			}
		}
	}
	if found < nq*95/100 {
		t.Fatalf("found the near duplicate of %d of %d queries, want >= 95%%", found, nq)
	}
}

func TestLSH_PerturbationsComeInIncreasingScoreWithoutRepeats(t *testing.T) {
	for _, fam := range []family{simHash, pStable} {
		r := rand.New(rand.NewPCG(4, 4))
		vals := make([]float32, 10)
		for i := range vals {
			vals[i] = float32(r.NormFloat64()) * 3
		}
		var p prober
		p.start(fam, vals)
		last, keys := float32(-1), map[uint64]bool{0: true}
		for range 200 {
			set, ok := p.next()
			if !ok {
				t.Fatalf("%s: sequence ended early", fam)
			}
			var score float32
			for s, i := set, 0; s != 0; s, i = s>>1, i+1 {
				if s&1 != 0 {
					score += p.moves[i].cost
				}
			}
			if score < last-1e-5 {
				t.Fatalf("%s: score %g after %g", fam, score, last)
			}
			last = score
			key := p.key(fam, 0, vals, set)
			if keys[key] {
				t.Fatalf("%s: bucket %#x probed twice", fam, key)
			}
			keys[key] = true
		}
	}
}

func TestLSH_ErrorsFilterRemoveAndSaveLoad(t *testing.T) {
	const d = 16
	base := clustered(800, d, 5)
	for _, bad := range []string{
		`{"type":"lsh","dim":16,"metric":"ip"}`,
		`{"type":"lsh","dim":16,"metric":"cosine","bits":65}`,
		`{"type":"lsh","dim":16,"metric":"l2","bits":33}`,
		`{"type":"lsh","dim":16,"metric":"cosine","w":2}`,
		`{"type":"lsh","dim":16,"metric":"l2","w":-1}`,
		`{"type":"lsh","dim":16,"metric":"l2","tables":65}`,
		`{"type":"lsh","dim":16,"metric":"cosine","bands":4}`,
		`{"type":"lsh","dim":16,"metric":"jaccard","nprobe":4}`,
		`{"type":"lsh","dim":16,"metric":"jaccard","bands":4,"tables":5}`,
	} {
		if _, err := index.New([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	u, _ := index.New([]byte(`{"type":"lsh","dim":16}`))
	if err := u.Add(bg, base, nil, nil); !errors.Is(err, errs.State) {
		t.Fatalf("l2 add without w or training: %v", err)
	}
	x := build(t, `{"type":"lsh","dim":16,"metric":"l2","w":3,"nprobe":32}`, nil, base)
	if err := x.(index.Trainer).Train(bg, base); err != nil || x.(*LSH).w != 3 {
		t.Fatalf("train with a given w changed it to %g (%v)", x.(*LSH).w, err)
	}
	if c, _ := x.Remove(bg, []int64{1, 3, 5, 799}); c != 4 || x.Len() != 796 {
		t.Fatal("remove")
	}
	if err := x.(*LSH).Verify(); err != nil {
		t.Fatal(err)
	}
	ids, dist := make([]int64, 10), make([]float32, 10)
	x.Search(bg, base[7*d:8*d], 10, &index.SearchParams{Filter: &index.Filter{IDs: []int64{7, 8, 9, 1}}}, ids, dist)
	if ids[0] != 7 || ids[3] != -1 {
		t.Fatalf("filter: %v", ids)
	}
	var buf bytes.Buffer
	if err := x.Save(&buf); err != nil {
		t.Fatal(err)
	}
	y, err := index.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := index.Verify(y); err != nil {
		t.Fatal(err)
	}
	a1, a2 := make([]int64, 50), make([]int64, 50)
	d1, d2 := make([]float32, 50), make([]float32, 50)
	x.Search(bg, base[:5*d], 10, nil, a1, d1)
	y.Search(bg, base[:5*d], 10, nil, a2, d2)
	for i := range a1 {
		if a1[i] != a2[i] || d1[i] != d2[i] {
			t.Fatalf("results differ after save/load at %d: %d %g vs %d %g", i, a1[i], d1[i], a2[i], d2[i])
		}
	}
	if k := index.Knobs(y)["nprobe"]; k != 32 {
		t.Fatalf("nprobe after load %d", k)
	}
}
