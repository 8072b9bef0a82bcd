package ivf

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// blobs are n points around 200 centres with wide spread: queries differ
// in how many cells hold their neighbours, as on real data.
func blobs(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 5))
	c := make([]float32, 200*d)
	rc := rand.New(rand.NewPCG(99, 5)) // the same centres for every call
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

// recallOf is the mean recall@k of got against want (nq rows of k).
func recallOf(got, want []int64, k int) float64 {
	hits := 0
	for q := 0; q < len(want)/k; q++ {
		in := map[int64]bool{}
		for _, id := range want[q*k : (q+1)*k] {
			in[id] = true
		}
		for _, id := range got[q*k : (q+1)*k] {
			if in[id] {
				hits++
			}
		}
	}
	return float64(hits) / float64(len(want))
}

// The Done-when of issue 17: search(recall=r) reaches mean recall within
// 0.01 of r on queries the policy was not trained on.
func TestPolicy_MeetsTheTargetOnHeldOutQueriesAndSurvivesSaveLoad(t *testing.T) {
	const d, n, k, nlist, nt, nh = 32, 6000, 10, 96, 1200, 800
	base := blobs(n, d, 1)
	x := build(t, metric.L2, d, nlist, base)
	train, held := blobs(nt, d, 2), blobs(nh, d, 3)
	if err := x.Search(bg, held, k, &index.SearchParams{Recall: 0.9}, make([]int64, nh*k), make([]float32, nh*k)); !errors.Is(err, errs.State) {
		t.Fatalf("recall search without a policy: %v", err)
	}
	if err := x.TrainPolicy(bg, train[:10*d], k, nil); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("10 sample queries: %v", err)
	}
	if err := x.TrainPolicy(bg, train, k, make([]int64, 5)); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("truth of the wrong length: %v", err)
	}
	bad := make([]int64, nt*k)
	bad[7] = -3
	if err := x.TrainPolicy(bg, train, k, bad); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("a negative truth id: %v", err)
	}
	if err := x.TrainPolicy(bg, train, k, nil); err != nil {
		t.Fatal(err)
	}
	learned := x.policy.Encode()
	// the exact neighbours given instead of found: the same policy
	truth, _ := search(t, x, train, k, &index.SearchParams{NProbe: nlist})
	if err := x.TrainPolicy(bg, train, k, truth); err != nil {
		t.Fatal(err)
	}
	if got := x.policy.Encode(); !slices.Equal(got, learned) {
		t.Fatal("the policy trained with the given truth differs from the one that found it")
	}
	want, _ := search(t, x, held, k, &index.SearchParams{NProbe: nlist})
	for _, target := range []float32{0.8, 0.9, 0.95, 0.99} {
		got, dist := search(t, x, held, k, &index.SearchParams{Recall: target})
		r := recallOf(got, want, k)
		t.Logf("target %.2f: held-out mean recall %.4f", target, r)
		if math.Abs(r-float64(target)) > 0.01 {
			t.Errorf("target %.2f: held-out mean recall %.4f, not within 0.01", target, r)
		}
		for q := range nh {
			for j := 1; j < k; j++ {
				if dist[q*k+j] < dist[q*k+j-1] {
					t.Fatalf("query %d: distances not sorted", q)
				}
			}
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
	a, _ := search(t, x, held, k, &index.SearchParams{Recall: 0.9})
	b, _ := search(t, y, held, k, &index.SearchParams{Recall: 0.9})
	if !slices.Equal(a, b) {
		t.Fatal("policy results differ after save/load")
	}
}
