package pq

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

func clustered(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 5))
	c := make([]float32, 50*d)
	for i := range c {
		c[i] = float32(r.NormFloat64())
	}
	x := make([]float32, n*d)
	for i := range n {
		k := r.IntN(50)
		for j := range d {
			x[i*d+j] = c[k*d+j] + 0.2*float32(r.NormFloat64())
		}
	}
	return x
}

func TestPQ_ADCIsTheDistanceToTheReconstruction(t *testing.T) {
	const d, n, k = 16, 3000, 10
	base, q := clustered(n, d, 1), clustered(10, d, 2)
	for _, nbits := range []int{8, 4} {
		for _, kind := range []metric.Kind{metric.L2, metric.IP} {
			mt, _ := metric.New(kind, d, metric.Params{})
			p, err := New(d, mt, 4, nbits, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Train(bg, base); err != nil {
				t.Fatal(err)
			}
			p.Add(bg, base, nil, nil)
			// the reconstruction of every stored vector, searched exactly
			rec := make([]float32, n*d)
			for r := range n {
				p.cb.Decode(p.codes[r*p.cb.CodeSize:(r+1)*p.cb.CodeSize], rec[r*d:(r+1)*d])
			}
			ref, _ := flat.Of(d, kind)
			ref.Add(bg, rec, nil, nil)
			want, wantD := make([]int64, 10*k), make([]float32, 10*k)
			ref.Search(bg, q, k, nil, want, wantD)
			got, gotD := make([]int64, 10*k), make([]float32, 10*k)
			if err := p.Search(bg, q, k, nil, got, gotD); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if diff := gotD[i] - wantD[i]; diff > 1e-3 || diff < -1e-3 {
					t.Fatalf("nbits %d %v: result %d distance %g, reconstruction's %g", nbits, kind, i, gotD[i], wantD[i])
				}
			}
			// recall against the original vectors is what quantization costs
			exact, _ := flat.Of(d, kind)
			exact.Add(bg, base, nil, nil)
			truth, td := make([]int64, 10*k), make([]float32, 10*k)
			exact.Search(bg, q, k, nil, truth, td)
			hits := 0
			for i := 0; i < 10; i++ {
				set := map[int64]bool{}
				for _, w := range truth[i*k : (i+1)*k] {
					set[w] = true
				}
				for _, g := range got[i*k : (i+1)*k] {
					if set[g] {
						hits++
					}
				}
			}
			if nbits == 8 && hits < 30 { // chance would be ~0
				t.Fatalf("%v: recall %d/100 with 8-bit codes", kind, hits)
			}
		}
	}
}

func TestPQ_ErrorsRemoveAndSaveLoad(t *testing.T) {
	const d = 8
	base := clustered(600, d, 3)
	mt, _ := metric.New(metric.L2, d, metric.Params{})
	if _, err := New(d, mt, 3, 8, 0); err == nil {
		t.Fatal("m not dividing dim accepted")
	}
	if _, err := New(d, mt, 2, 6, 0); err == nil {
		t.Fatal("nbits 6 accepted")
	}
	p, _ := New(d, mt, 2, 8, 0)
	if err := p.Train(bg, base[:100*d]); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("100 training vectors for 256 centroids: %v", err)
	}
	if err := p.Add(bg, base, nil, nil); !errors.Is(err, errs.State) {
		t.Fatalf("add before train: %v", err)
	}
	p.Train(bg, base)
	p.Add(bg, base, nil, nil)
	if c, _ := p.Remove(bg, []int64{0, 1}); c != 2 || p.Len() != 598 {
		t.Fatal("remove")
	}
	var buf bytes.Buffer
	p.Save(&buf)
	u, err := index.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	a, b := make([]int64, 30), make([]int64, 30)
	da, db := make([]float32, 30), make([]float32, 30)
	p.Search(bg, base[:3*d], 10, nil, a, da)
	u.Search(bg, base[:3*d], 10, nil, b, db)
	for i := range a {
		if a[i] != b[i] || da[i] != db[i] {
			t.Fatal("results differ after save/load")
		}
	}
}
