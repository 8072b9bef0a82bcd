package coarse

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/kernels"
)

// clustered returns n rows of dim around 64 centres, normalised when unit.
func clustered(n, dim int, unit bool, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	centres := make([]float32, 64*dim)
	for i := range centres {
		centres[i] = float32(r.NormFloat64())
	}
	x := make([]float32, n*dim)
	for i := range n {
		c := r.IntN(64)
		var norm float64
		for t := range dim {
			v := centres[c*dim+t] + float32(r.NormFloat64()*0.5)
			x[i*dim+t] = v
			norm += float64(v * v)
		}
		if unit {
			for t := range dim {
				x[i*dim+t] /= float32(math.Sqrt(norm))
			}
		}
	}
	return x
}

func TestSearch_ExactDistancesAndTheExactCellsAlmostAlways(t *testing.T) {
	bg := context.Background()
	for _, kind := range []metric.Kind{metric.L2, metric.IP} {
		for _, dim := range []int{64, 100, 384} { // 2048 centroids: the int8 path at each
			m, _ := metric.New(kind, dim, metric.Params{})
			cents := clustered(2048, dim, kind == metric.IP, 1)
			qs := clustered(200, dim, kind == metric.IP, 2)
			q, err := New(cents, dim, m)
			if err != nil {
				t.Fatal(err)
			}
			if (q.c8 != nil) != (kernels.Current().DotU8I8Rows4 != nil) {
				t.Fatalf("d=%d: int8 copy %v, VNNI %v", dim, q.c8 != nil, kernels.Current().DotU8I8Rows4 != nil)
			}
			for _, nprobe := range []int{1, 4, 32} {
				got, gd := make([]int64, 200*nprobe), make([]float32, 200*nprobe)
				want, wd := make([]int64, 200*nprobe), make([]float32, 200*nprobe)
				if err := q.Search(bg, qs, nprobe, got, gd); err != nil {
					t.Fatal(err)
				}
				if err := q.exact.Search(bg, qs, nprobe, nil, want, wd); err != nil {
					t.Fatal(err)
				}
				same := 0
				for i := range 200 {
					set := map[int64]bool{}
					for _, c := range want[i*nprobe : (i+1)*nprobe] {
						set[c] = true
					}
					for j, c := range got[i*nprobe : (i+1)*nprobe] {
						if set[c] {
							same++
						}
						row, cen := qs[i*dim:(i+1)*dim], cents[int(c)*dim:(int(c)+1)*dim]
						exact := float64(kernels.L2Sq(row, cen))
						if kind == metric.IP {
							exact = 1 - float64(kernels.Dot(row, cen))
						}
						if math.Abs(float64(gd[i*nprobe+j])-exact) > 1e-4*(1+math.Abs(exact)) {
							t.Fatalf("%v d=%d nprobe=%d: query %d cell %d at %v, exactly %v", kind, dim, nprobe, i, c, gd[i*nprobe+j], exact)
						}
						if j > 0 && gd[i*nprobe+j] < gd[i*nprobe+j-1] {
							t.Fatalf("%v d=%d nprobe=%d: query %d unsorted", kind, dim, nprobe, i)
						}
					}
				}
				frac := float64(same) / float64(200*nprobe)
				t.Logf("%v d=%d nprobe=%d: %.4f of the cells are an exact search's", kind, dim, nprobe, frac)
				if frac < 0.999 {
					t.Fatalf("%v d=%d nprobe=%d: %.4f of the cells are an exact search's", kind, dim, nprobe, frac)
				}
			}
		}
	}
}
