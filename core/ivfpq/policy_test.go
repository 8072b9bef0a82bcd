package ivfpq

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// blobs are n points around 200 centres with wide spread: queries differ
// in how many cells hold their neighbours (as ivf_flat's policy test).
func blobs(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 5))
	c := make([]float32, 200*d)
	rc := rand.New(rand.NewPCG(99, 5))
	for i := range c {
		c[i] = float32(rc.NormFloat64())
	}
	x := make([]float32, n*d)
	for i := range n {
		k := r.IntN(200)
		s := 0.6 + 1.2*float32(r.Float64())
		for j := range d {
			x[i*d+j] = c[k*d+j] + s*float32(r.NormFloat64())
		}
	}
	return x
}

func recallOf(got, want []int64, k int) float64 {
	hits := 0
	for q := 0; q < len(want)/k; q++ {
		for _, id := range got[q*k : (q+1)*k] {
			if slices.Contains(want[q*k:(q+1)*k], id) {
				hits++
			}
		}
	}
	return float64(hits) / float64(len(want))
}

func run(t *testing.T, x index.Index, q []float32, k int, p *index.SearchParams) []int64 {
	t.Helper()
	nq := len(q) / x.Info().Dim
	ids := make([]int64, nq*k)
	if err := x.Search(bg, q, k, p, ids, make([]float32, nq*k)); err != nil {
		t.Fatal(err)
	}
	return ids
}

// The policy on IVF-PQ: recall against exact neighbours within 0.01 of
// the target on held-out queries, with refine (truth found on the stored
// vectors) and without (truth given); kept by save/load.
func TestPolicy_IVFPQMeetsTheTargetOnHeldOutQueries(t *testing.T) {
	const d, n, k, nlist, nt, nh = 32, 5000, 10, 96, 1000, 800
	base, train, held := blobs(n, d, 1), blobs(nt, d, 2), blobs(nh, d, 3)
	m, _ := metric.New(metric.L2, d, metric.Params{})
	ref, _ := flat.Of(d, metric.L2)
	ref.Add(bg, base, nil, nil)
	truth, want := run(t, ref, train, k, nil), run(t, ref, held, k, nil)
	for _, refine := range []int{10, 0} {
		x, err := New(d, m, nlist, 1, d/4, 8, refine, 0) // 4 dimensions a code byte: ADC alone reaches ~0.73
		if err != nil {
			t.Fatal(err)
		}
		if err := x.Train(bg, base); err != nil {
			t.Fatal(err)
		}
		if err := x.Add(bg, base, nil, nil); err != nil {
			t.Fatal(err)
		}
		given := truth
		if refine > 0 {
			given = nil
		} else if err := x.TrainPolicy(bg, train, k, nil); !errors.Is(err, errs.InvalidArgument) {
			t.Fatalf("no refine and no truth: %v", err)
		}
		if err := x.TrainPolicy(bg, train[:49*d], k, given); !errors.Is(err, errs.InvalidArgument) {
			t.Fatalf("49 sample queries: %v", err)
		}
		if err := x.TrainPolicy(bg, train, k, given); err != nil {
			t.Fatal(err)
		}
		best := recallOf(run(t, x, held, k, &index.SearchParams{NProbe: nlist}), want, k)
		floor := recallOf(run(t, x, held, k, &index.SearchParams{NProbe: 2}), want, k) // the policy probes 2 cells at least
		for _, target := range []float32{0.6, 0.7, 0.8, 0.9, 0.95, 0.99} {
			r := recallOf(run(t, x, held, k, &index.SearchParams{Recall: target}), want, k)
			t.Logf("refine %d: target %.2f: held-out mean recall %.4f (every cell: %.4f)", refine, target, r, best)
			if float64(target) < floor {
				if r > floor+0.01 {
					t.Errorf("refine %d: target %.2f below the recall of 2 cells (%.4f): recall %.4f", refine, target, floor, r)
				}
			} else if float64(target) > best-0.005 {
				// out of reach of these codes: the policy probes what the
				// training queries needed at most, so it comes near the best
				if r < best-0.02 {
					t.Errorf("refine %d: unreachable target %.2f: recall %.4f, every cell %.4f", refine, target, r, best)
				}
			} else if math.Abs(r-float64(target)) > 0.01 {
				t.Errorf("refine %d: target %.2f: held-out mean recall %.4f, not within 0.01", refine, target, r)
			}
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
		p := &index.SearchParams{Recall: 0.9}
		if !slices.Equal(run(t, x, held, k, p), run(t, y, held, k, p)) {
			t.Fatalf("refine %d: policy results differ after save/load", refine)
		}
	}
}
