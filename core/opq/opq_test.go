package opq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"

	_ "github.com/oxvec/oxvec/core/pq"
)

var bg = context.Background()

// correlated returns vectors whose dimensions are mixed, the case OPQ is for.
func correlated(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 8))
	mix := make([]float64, d*d)
	for i := range mix {
		mix[i] = r.NormFloat64()
	}
	x := make([]float32, n*d)
	z := make([]float64, d)
	for i := range n {
		for j := range z {
			z[j] = r.NormFloat64() * math.Pow(0.8, float64(j))
		}
		for j := range d {
			s := 0.0
			for k := range d {
				s += z[k] * mix[k*d+j]
			}
			x[i*d+j] = float32(s)
		}
	}
	return x
}

func newOPQ(t *testing.T, d int, inner string) *OPQ {
	t.Helper()
	idx, err := index.New([]byte(fmt.Sprintf(`{"type":"opq","dim":%d,"metric":"l2","m":4,"iters":5,"index":%s}`, d, inner)))
	if err != nil {
		t.Fatal(err)
	}
	return idx.(*OPQ)
}

func TestOPQ_RotationIsOrthogonalAndKeepsExactSearchExact(t *testing.T) {
	const d, n, k = 16, 3000, 10
	base, q := correlated(n, d, 1), correlated(10, d, 2)
	o := newOPQ(t, d, `{"type":"flat"}`)
	if err := o.Train(bg, base); err != nil {
		t.Fatal(err)
	}
	for i := range d {
		for j := range d {
			dot := 0.0
			for l := range d {
				dot += float64(o.rt[i*d+l]) * float64(o.rt[j*d+l])
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(dot-want) > 1e-4 {
				t.Fatalf("R R^T [%d,%d] = %g", i, j, dot)
			}
		}
	}
	o.Add(bg, base, nil, nil)
	ref, _ := flat.Of(d, metric.L2)
	ref.Add(bg, base, nil, nil)
	a, b := make([]int64, 10*k), make([]int64, 10*k)
	da, db := make([]float32, 10*k), make([]float32, 10*k)
	o.Search(bg, q, k, nil, a, da)
	ref.Search(bg, q, k, nil, b, db)
	for i := range a {
		if a[i] != b[i] || math.Abs(float64(da[i]-db[i])) > 1e-3*(1+float64(db[i])) {
			t.Fatalf("result %d: %d %g vs exact %d %g", i, a[i], da[i], b[i], db[i])
		}
	}
}

func TestOPQ_ErrorsAndSaveLoad(t *testing.T) {
	const d = 8
	base := correlated(1000, d, 3)
	for _, bad := range []string{
		`{"type":"opq","dim":8,"metric":"l2","m":3,"index":{"type":"pq","m":4}}`,
		`{"type":"opq","dim":8,"metric":"manhattan","m":4,"index":{"type":"pq","m":4}}`,
		`{"type":"opq","dim":8,"metric":"l2","m":4}`,
	} {
		if _, err := index.New([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	o := newOPQ(t, d, `{"type":"pq","m":4}`)
	if err := o.Add(bg, base, nil, nil); !errors.Is(err, errs.State) {
		t.Fatalf("add before train: %v", err)
	}
	if err := o.Train(bg, base); err != nil {
		t.Fatal(err)
	}
	o.Add(bg, base, nil, nil)
	var buf bytes.Buffer
	if err := o.Save(&buf); err != nil {
		t.Fatal(err)
	}
	p, err := index.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	a, b := make([]int64, 50), make([]int64, 50)
	da, db := make([]float32, 50), make([]float32, 50)
	o.Search(bg, base[:5*d], 10, nil, a, da)
	p.Search(bg, base[:5*d], 10, nil, b, db)
	for i := range a {
		if a[i] != b[i] || da[i] != db[i] {
			t.Fatal("results differ after save/load")
		}
	}
	if p.Info().Type != "opq" || p.Len() != 1000 {
		t.Fatalf("%+v", p.Info())
	}
}
