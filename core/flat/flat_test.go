package flat

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand"
	"sort"
	"sync"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

var bg = context.Background()

func randVecs(rng *rand.Rand, n, d int) []float32 {
	v := make([]float32, n*d)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// exact is the float64 reference: the k nearest (distance, id) by brute force.
func exact(m metric.Kind, base []float32, ids []int64, q []float32, d, k int) ([]int64, []float64) {
	type pair struct {
		d  float64
		id int64
	}
	norm := func(v []float32) float64 {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		return math.Sqrt(s)
	}
	n := len(ids)
	ps := make([]pair, n)
	for r := 0; r < n; r++ {
		row := base[r*d : (r+1)*d]
		var s float64
		for i := range q {
			switch m {
			case metric.L2:
				s += (float64(q[i]) - float64(row[i])) * (float64(q[i]) - float64(row[i]))
			default:
				s += float64(q[i]) * float64(row[i])
			}
		}
		switch m {
		case metric.IP:
			s = 1 - s
		case metric.Cosine:
			s = 1 - s/(norm(q)*norm(row))
		}
		ps[r] = pair{s, ids[r]}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].d < ps[j].d || (ps[i].d == ps[j].d && ps[i].id < ps[j].id) })
	outI := make([]int64, k)
	outD := make([]float64, k)
	for i := 0; i < k; i++ {
		if i < n {
			outI[i], outD[i] = ps[i].id, ps[i].d
		} else {
			outI[i], outD[i] = -1, math.Inf(1)
		}
	}
	return outI, outD
}

func search(t *testing.T, f *Flat, q []float32, k int) ([]int64, []float32) {
	t.Helper()
	nq := len(q) / f.Dim()
	ids := make([]int64, nq*k)
	dist := make([]float32, nq*k)
	if err := f.Search(bg, q, k, nil, ids, dist); err != nil {
		t.Fatal(err)
	}
	return ids, dist
}

func TestFlat_Search_MatchesFloat64BruteForce(t *testing.T) {
	defer kernels.SetLevel(kernels.Current().Level)
	defer parallel.SetWorkers(0)
	for l := kernels.Generic; l <= kernels.AVX512; l++ {
		if kernels.SetLevel(l) != nil {
			continue
		}
		for _, m := range []metric.Kind{metric.L2, metric.IP, metric.Cosine} {
			for _, workers := range []int{1, 3} {
				parallel.SetWorkers(workers)
				for _, n := range []int{1, 50, splitBaseRows + 77} {
					for _, nq := range []int{1, 2, 3, 4, 5, 7, 17, 40, 70} {
						checkExact(t, l, m, workers, n, nq)
					}
				}
			}
		}
	}
}

func checkExact(t *testing.T, l kernels.Level, m metric.Kind, workers, n, nq int) {
	t.Helper()
	seed := int64(n*31+nq) + int64(m)
	rng := rand.New(rand.NewSource(seed))
	d, k := 17, 10
	f, _ := Of(d, m)
	base := randVecs(rng, n, d)
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(3*i + 1)
	}
	if err := f.Add(bg, base, ids, nil); err != nil {
		t.Fatal(err)
	}
	q := randVecs(rng, nq, d)
	gotI, gotD := search(t, f, q, k)
	for qi := 0; qi < nq; qi++ {
		wantI, wantD := exact(m, base, ids, q[qi*d:(qi+1)*d], d, k)
		for j := 0; j < k; j++ {
			gi, gd := gotI[qi*k+j], gotD[qi*k+j]
			if gi != wantI[j] {
				t.Fatalf("%v %v seed %d workers %d n %d nq %d q %d rank %d: id %d want %d", l, m, seed, workers, n, nq, qi, j, gi, wantI[j])
			}
			if wantI[j] >= 0 && math.Abs(float64(gd)-wantD[j]) > 1e-4*(1+math.Abs(wantD[j])) {
				t.Fatalf("%v %v q %d rank %d: dist %v want %v", l, m, qi, j, gd, wantD[j])
			}
		}
	}
}

func TestFlat_Search_StoredVectorIsAtDistanceZero(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	d := 33
	f, _ := Of(d, metric.L2)
	base := randVecs(rng, 100, d)
	for i := range base {
		base[i] *= 1000 // large norms: the expansion |x|^2-2<q,x> would leave rounding noise
	}
	f.Add(bg, base, nil, nil)
	ids, dist := search(t, f, base[:8*d], 1)
	for i := 0; i < 8; i++ {
		if ids[i] != int64(i) || dist[i] != 0 {
			t.Fatalf("query %d: nearest (%d, %v), want (%d, 0)", i, ids[i], dist[i], i)
		}
	}
}

func TestFlat_Search_PadsWhenFewerThanK(t *testing.T) {
	f, _ := Of(2, metric.L2)
	ids, dist := search(t, f, []float32{0, 0}, 3)
	for i := range ids {
		if ids[i] != -1 || !math.IsInf(float64(dist[i]), 1) {
			t.Fatalf("empty index: rank %d = (%d, %v), want (-1, +Inf)", i, ids[i], dist[i])
		}
	}
	if err := f.Add(bg, []float32{1, 0, 3, 0}, nil, nil); err != nil {
		t.Fatal(err)
	}
	ids, dist = search(t, f, []float32{0, 0}, 3)
	if ids[0] != 0 || ids[1] != 1 || ids[2] != -1 || dist[0] != 1 || dist[1] != 9 || !math.IsInf(float64(dist[2]), 1) {
		t.Fatalf("got %v %v", ids, dist)
	}
}

func TestFlat_Add_AssignsFreshIDsNeverReused(t *testing.T) {
	f, _ := Of(1, metric.L2)
	got := make([]int64, 2)
	if err := f.Add(bg, []float32{1, 2}, nil, got); err != nil || got[0] != 0 || got[1] != 1 {
		t.Fatalf("first batch ids %v err %v", got, err)
	}
	if err := f.Add(bg, []float32{3}, []int64{10}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Remove(bg, []int64{10}); err != nil {
		t.Fatal(err)
	}
	if err := f.Add(bg, []float32{4}, nil, got[:1]); err != nil || got[0] != 11 {
		t.Fatalf("after explicit id 10, next auto id = %d (err %v), want 11", got[0], err)
	}
}

func TestFlat_Add_RejectsBadInputWithoutChangingTheIndex(t *testing.T) {
	f, _ := Of(2, metric.Cosine)
	if err := f.Add(bg, []float32{1, 1}, []int64{5}, nil); err != nil {
		t.Fatal(err)
	}
	nan := float32(math.NaN())
	cases := []struct {
		name string
		vecs []float32
		ids  []int64
		want error
	}{
		{"ragged", []float32{1, 2, 3}, nil, errs.Dimension},
		{"nan", []float32{1, 2, nan, 1}, nil, errs.InvalidArgument},
		{"inf", []float32{float32(math.Inf(-1)), 1}, nil, errs.InvalidArgument},
		{"negative id", []float32{1, 2}, []int64{-3}, errs.InvalidArgument},
		{"dup in batch", []float32{1, 2, 3, 4}, []int64{7, 7}, errs.DuplicateID},
		{"dup existing", []float32{1, 2}, []int64{5}, errs.DuplicateID},
		{"id count", []float32{1, 2}, []int64{1, 2}, errs.InvalidArgument},
		{"zero for cosine", []float32{1, 2, 0, 0}, nil, errs.InvalidArgument},
	}
	for i, c := range cases {
		if err := f.Add(bg, c.vecs, c.ids, nil); !errors.Is(err, c.want) {
			t.Errorf("case %d %s: got %v, want %v", i, c.name, err, c.want)
		}
		if f.Len() != 1 {
			t.Fatalf("case %d %s: index changed to %d vectors", i, c.name, f.Len())
		}
	}
}

func TestFlat_Search_RejectsBadQueries(t *testing.T) {
	f, _ := Of(3, metric.L2)
	out := make([]int64, 10)
	dist := make([]float32, 10)
	if err := f.Search(bg, []float32{1, 2}, 1, nil, out, dist); !errors.Is(err, errs.Dimension) {
		t.Fatalf("ragged queries: %v", err)
	}
	if err := f.Search(bg, []float32{1, 2, 3}, 0, nil, out, dist); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("k=0: %v", err)
	}
	if err := f.Search(bg, []float32{1, float32(math.NaN()), 3}, 1, nil, out, dist); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("nan query: %v", err)
	}
}

func TestFlat_Remove_KeepsOtherResultsExact(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	d, n := 8, 3000
	f, _ := Of(d, metric.L2)
	base := randVecs(rng, n, d)
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i)
	}
	f.Add(bg, base, ids, nil)
	var gone []int64
	for i := 0; i < n; i += 3 {
		gone = append(gone, int64(i))
	}
	if c, err := f.Remove(bg, append(gone, 999999)); err != nil || c != len(gone) {
		t.Fatalf("removed %d (err %v), want %d", c, err, len(gone))
	}
	var keepVecs []float32
	var keepIDs []int64
	for i := 0; i < n; i++ {
		if i%3 != 0 {
			keepVecs = append(keepVecs, base[i*d:(i+1)*d]...)
			keepIDs = append(keepIDs, int64(i))
		}
	}
	q := randVecs(rng, 4, d)
	got, _ := search(t, f, q, 5)
	for qi := 0; qi < 4; qi++ {
		want, _ := exact(metric.L2, keepVecs, keepIDs, q[qi*d:(qi+1)*d], d, 5)
		for j := range want {
			if got[qi*5+j] != want[j] {
				t.Fatalf("q %d rank %d: %d want %d", qi, j, got[qi*5+j], want[j])
			}
		}
	}
}

func TestFlat_SaveLoad_RoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	f, _ := Of(6, metric.Cosine)
	f.Add(bg, randVecs(rng, 100, 6), nil, nil)
	f.Remove(bg, []int64{3, 50})
	var buf bytes.Buffer
	if err := f.Save(&buf); err != nil {
		t.Fatal(err)
	}
	g, err := index.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() != 98 || g.Dim() != 6 || g.Metric() != metric.Cosine {
		t.Fatalf("loaded %+v", g.Info())
	}
	q := randVecs(rng, 3, 6)
	a, ad := search(t, f, q, 7)
	b, bd := search(t, g.(*Flat), q, 7)
	for i := range a {
		if a[i] != b[i] || ad[i] != bd[i] {
			t.Fatalf("result %d differs after reload: (%d,%v) vs (%d,%v)", i, a[i], ad[i], b[i], bd[i])
		}
	}
	// the id counter survives too
	got := make([]int64, 1)
	g.Add(bg, randVecs(rng, 1, 6), nil, got)
	if got[0] != 100 {
		t.Fatalf("next auto id after reload = %d, want 100", got[0])
	}
}

func TestFlat_Search_ConcurrentWithAddAndRemove(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	d := 16
	f, _ := Of(d, metric.L2)
	f.Add(bg, randVecs(rng, 2000, d), nil, nil)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			r := rand.New(rand.NewSource(seed))
			ids := make([]int64, 8*10)
			dist := make([]float32, 8*10)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := f.Search(bg, randVecs(r, 8, d), 10, nil, ids, dist); err != nil {
					t.Error(err)
					return
				}
				for i := 1; i < len(dist); i++ {
					if i%10 != 0 && dist[i] < dist[i-1] {
						t.Error("results out of order")
						return
					}
				}
			}
		}(int64(w))
	}
	for i := 0; i < 200; i++ {
		got := make([]int64, 10)
		f.Add(bg, randVecs(rng, 10, d), nil, got)
		f.Remove(bg, got[:5])
	}
	close(stop)
	wg.Wait()
	if f.Len() != 2000+200*5 {
		t.Fatalf("len %d", f.Len())
	}
}

func TestFlat_Search_HonoursCancel(t *testing.T) {
	f, _ := Of(4, metric.L2)
	f.Add(bg, make([]float32, 4*50000), nil, nil)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	ids := make([]int64, 100)
	dist := make([]float32, 100)
	if err := f.Search(ctx, make([]float32, 4*100), 1, nil, ids, dist); !errors.Is(err, errs.Canceled) {
		t.Fatalf("got %v, want errs.Canceled", err)
	}
}

func TestFlat_UseAfterClose(t *testing.T) {
	f, _ := Of(2, metric.L2)
	f.Close()
	if err := f.Add(bg, []float32{1, 2}, nil, nil); !errors.Is(err, errs.Closed) {
		t.Fatalf("add after close: %v", err)
	}
	if err := f.Search(bg, []float32{1, 2}, 1, nil, make([]int64, 1), make([]float32, 1)); !errors.Is(err, errs.Closed) {
		t.Fatalf("search after close: %v", err)
	}
}
