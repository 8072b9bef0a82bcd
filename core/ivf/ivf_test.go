package ivf

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

var bg = context.Background()

func clustered(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 2))
	c := make([]float32, 20*d)
	for i := range c {
		c[i] = float32(r.NormFloat64())
	}
	x := make([]float32, n*d)
	for i := range n {
		k := r.IntN(20)
		for j := range d {
			x[i*d+j] = c[k*d+j] + 0.3*float32(r.NormFloat64())
		}
	}
	return x
}

func build(t *testing.T, kind metric.Kind, d, nlist int, base []float32) *IVF {
	t.Helper()
	m, _ := metric.New(kind, d, metric.Params{})
	x, err := New(d, m, nlist, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Train(bg, base); err != nil {
		t.Fatal(err)
	}
	if err := x.Add(bg, base, nil, nil); err != nil {
		t.Fatal(err)
	}
	return x
}

func search(t *testing.T, idx index.Index, q []float32, k int, p *index.SearchParams) ([]int64, []float32) {
	t.Helper()
	nq := len(q) / idx.Dim()
	ids, dist := make([]int64, nq*k), make([]float32, nq*k)
	if err := idx.Search(bg, q, k, p, ids, dist); err != nil {
		t.Fatal(err)
	}
	return ids, dist
}

func recall(got, want []int64, k int) float64 {
	hits := 0
	for i := 0; i < len(got); i += k {
		set := map[int64]bool{}
		for _, w := range want[i : i+k] {
			set[w] = true
		}
		for _, g := range got[i : i+k] {
			if set[g] {
				hits++
			}
		}
	}
	return float64(hits) / float64(len(got))
}

func TestIVF_AllListsIsExactAndRecallGrowsWithNProbe(t *testing.T) {
	const d, n, k = 16, 3000, 10
	base, q := clustered(n, d, 1), clustered(100, d, 2)
	for _, kind := range []metric.Kind{metric.L2, metric.Cosine, metric.IP} {
		x := build(t, kind, d, 32, base)
		ref, _ := flat.Of(d, kind)
		ref.Add(bg, base, nil, nil)
		want, wantD := search(t, ref, q, k, nil)
		got, gotD := search(t, x, q, k, &index.SearchParams{NProbe: 32})
		if r := recall(got, want, k); r != 1 {
			t.Fatalf("%v: nprobe = nlist recall %.3f", kind, r)
		}
		for i := range gotD {
			if diff := gotD[i] - wantD[i]; diff > 1e-4 || diff < -1e-4 {
				t.Fatalf("%v: distance %d: %g vs exact %g", kind, i, gotD[i], wantD[i])
			}
		}
		prev := 0.0
		for _, np := range []int{1, 4, 16} {
			g, _ := search(t, x, q, k, &index.SearchParams{NProbe: np})
			r := recall(g, want, k)
			if r+1e-9 < prev {
				t.Fatalf("%v: recall fell from %.3f to %.3f at nprobe %d", kind, prev, r, np)
			}
			prev = r
		}
		if prev < 0.95 {
			t.Fatalf("%v: nprobe 16 of 32 recall %.3f", kind, prev)
		}
	}
}

func TestIVF_UntrainedAndUndertrainedAreClearErrors(t *testing.T) {
	m, _ := metric.New(metric.L2, 4, metric.Params{})
	x, _ := New(4, m, 50, 1, 0)
	err := x.Add(bg, make([]float32, 8), nil, nil)
	if !errors.Is(err, errs.State) || !strings.Contains(err.Error(), "train") {
		t.Fatalf("add before train: %v", err)
	}
	if err := x.Search(bg, make([]float32, 4), 1, nil, make([]int64, 1), make([]float32, 1)); !errors.Is(err, errs.State) {
		t.Fatalf("search before train: %v", err)
	}
	err = x.Train(bg, clustered(20, 4, 3))
	if !errors.Is(err, errs.InvalidArgument) || !strings.Contains(err.Error(), "at least 50") {
		t.Fatalf("train on 20 vectors for 50 lists: %v", err)
	}
	if _, err := New(4, m, 0, 1, 0); err == nil {
		t.Fatal("nlist 0 accepted")
	}
	mm, _ := metric.New(metric.Manhattan, 4, metric.Params{})
	if _, err := New(4, mm, 4, 1, 0); !errors.Is(err, errs.Unsupported) {
		t.Fatalf("manhattan: %v", err)
	}
}

func TestIVF_FilterRemoveAndSaveLoad(t *testing.T) {
	const d, n = 8, 1000
	base := clustered(n, d, 4)
	x := build(t, metric.L2, d, 16, base)
	var even []int64
	for i := int64(0); i < n; i += 2 {
		even = append(even, i)
	}
	ids, _ := search(t, x, base[:d], 20, &index.SearchParams{NProbe: 16, Filter: &index.Filter{IDs: even}})
	for _, id := range ids {
		if id%2 != 0 {
			t.Fatalf("filter let %d through", id)
		}
	}
	if c, _ := x.Remove(bg, []int64{0, 2, 4, 999999}); c != 3 || x.Len() != n-3 {
		t.Fatalf("removed %d, len %d", c, x.Len())
	}
	var buf bytes.Buffer
	if err := x.Save(&buf); err != nil {
		t.Fatal(err)
	}
	y, err := index.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	a, ad := search(t, x, base[:10*d], 5, &index.SearchParams{NProbe: 4})
	b, bd := search(t, y, base[:10*d], 5, &index.SearchParams{NProbe: 4})
	for i := range a {
		if a[i] != b[i] || ad[i] != bd[i] {
			t.Fatal("results differ after save/load")
		}
	}
	if err := y.Add(bg, base[:d], []int64{5000}, nil); err != nil {
		t.Fatal(err)
	}
	if err := y.(*IVF).Train(bg, base); !errors.Is(err, errs.State) {
		t.Fatalf("retraining a filled index: %v", err)
	}
	// an untrained index saves and loads as untrained
	m, _ := metric.New(metric.L2, d, metric.Params{})
	u, _ := New(d, m, 8, 2, 0)
	buf.Reset()
	u.Save(&buf)
	v, err := index.Load(buf.Bytes())
	if err != nil || v.(*IVF).Trained() {
		t.Fatalf("untrained round trip: %v", err)
	}
}
