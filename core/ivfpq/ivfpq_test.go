package ivfpq

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

var bg = context.Background()

func clustered(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 6))
	c := make([]float32, 30*d)
	for i := range c {
		c[i] = float32(r.NormFloat64())
	}
	x := make([]float32, n*d)
	for i := range n {
		k := r.IntN(30)
		for j := range d {
			x[i*d+j] = c[k*d+j] + 0.3*float32(r.NormFloat64())
		}
	}
	return x
}

func build(t *testing.T, kind metric.Kind, d, refine int, base []float32) *IVFPQ {
	t.Helper()
	m, _ := metric.New(kind, d, metric.Params{})
	x, err := New(d, m, 16, 1, d/2, 8, refine, 0)
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

func TestIVFPQ_FullRefineIsExactAndInputsStayUntouched(t *testing.T) {
	const d, n, k = 16, 2000, 10
	base, q := clustered(n, d, 1), clustered(20, d, 2)
	orig := slices.Clone(base)
	for _, kind := range []metric.Kind{metric.L2, metric.IP} {
		x := build(t, kind, d, n/k, base) // refine every candidate: k*refine = n
		if !slices.Equal(base, orig) {
			t.Fatal("training or adding changed the caller's vectors")
		}
		ref, _ := flat.Of(d, kind)
		ref.Add(bg, base, nil, nil)
		want, wantD := make([]int64, 20*k), make([]float32, 20*k)
		ref.Search(bg, q, k, nil, want, wantD)
		got, gotD := make([]int64, 20*k), make([]float32, 20*k)
		if err := x.Search(bg, q, k, &index.SearchParams{NProbe: 16}, got, gotD); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != want[i] || gotD[i]-wantD[i] > 1e-4 || wantD[i]-gotD[i] > 1e-4 {
				t.Fatalf("%v: result %d: %d %g, exact %d %g", kind, i, got[i], gotD[i], want[i], wantD[i])
			}
		}
	}
}

func TestIVFPQ_ADCIsTheDistanceToCellPlusReconstruction(t *testing.T) {
	const d, n, k = 16, 2000, 5
	base, q := clustered(n, d, 3), clustered(5, d, 4)
	for _, kind := range []metric.Kind{metric.L2, metric.IP} {
		x := build(t, kind, d, 0, base)
		rec := make([]float32, 0, n*d)
		var ids []int64
		buf := make([]float32, d)
		for c, l := range x.lists {
			for i, id := range l.ids {
				x.cb.Decode(l.codes[i*x.cb.CodeSize:(i+1)*x.cb.CodeSize], buf)
				for j := range buf {
					buf[j] += x.centroids[c*d+j]
				}
				rec = append(rec, buf...)
				ids = append(ids, id)
			}
		}
		ref, _ := flat.Of(d, kind)
		ref.Add(bg, rec, ids, nil)
		want, wantD := make([]int64, 5*k), make([]float32, 5*k)
		ref.Search(bg, q, k, nil, want, wantD)
		got, gotD := make([]int64, 5*k), make([]float32, 5*k)
		x.Search(bg, q, k, &index.SearchParams{NProbe: 16}, got, gotD)
		for i := range got {
			if d := gotD[i] - wantD[i]; d > 1e-3 || d < -1e-3 {
				t.Fatalf("%v: result %d distance %g, reconstruction's %g", kind, i, gotD[i], wantD[i])
			}
		}
	}
}

func TestIVFPQ_ErrorsRemoveAndSaveLoad(t *testing.T) {
	const d = 8
	base := clustered(1000, d, 5)
	m, _ := metric.New(metric.L2, d, metric.Params{})
	x, _ := New(d, m, 16, 4, 4, 8, 2, 0)
	if err := x.Add(bg, base, nil, nil); !errors.Is(err, errs.State) {
		t.Fatalf("add before train: %v", err)
	}
	if err := x.Train(bg, base[:100*d]); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("100 vectors for 8-bit codes: %v", err)
	}
	x.Train(bg, base)
	x.Add(bg, base, nil, nil)
	if c, _ := x.Remove(bg, []int64{3, 4, 999999}); c != 2 || x.Len() != 998 {
		t.Fatal("remove")
	}
	var buf bytes.Buffer
	x.Save(&buf)
	y, err := index.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	a, b := make([]int64, 50), make([]int64, 50)
	da, db := make([]float32, 50), make([]float32, 50)
	x.Search(bg, base[:5*d], 10, nil, a, da)
	y.Search(bg, base[:5*d], 10, nil, b, db)
	for i := range a {
		if a[i] != b[i] || da[i] != db[i] {
			t.Fatal("results differ after save/load")
		}
	}
}
