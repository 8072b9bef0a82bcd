package index_test

import (
	"errors"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

// brute is every (id, squared l2 distance) of x within radius of q, sorted.
func brute(x, q []float32, ids []int64, dim int, radius float32) ([]int64, []float32) {
	type hit struct {
		id int64
		d  float32
	}
	var hits []hit
	for i := range len(x) / dim {
		var d float32
		for j := range dim {
			t := x[i*dim+j] - q[j]
			d += t * t
		}
		if d <= radius {
			hits = append(hits, hit{ids[i], d})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.d != b.d {
			if a.d < b.d {
				return -1
			}
			return 1
		}
		return int(a.id - b.id)
	})
	outIDs, outDist := make([]int64, len(hits)), make([]float32, len(hits))
	for i, h := range hits {
		outIDs[i], outDist[i] = h.id, h.d
	}
	return outIDs, outDist
}

func TestRangeSearch_Flat_MatchesBruteForceAcrossRounds(t *testing.T) {
	idx, x := filled(t, `{"type":"flat","dim":8}`)
	ids := make([]int64, 300)
	for i := range ids {
		ids[i] = int64(10 + 2*i)
	}
	q := x[:3*8]
	// radii that settle in the first round (few), the second (> 16) and
	// the third (> 64 results), and one beyond every vector
	for _, radius := range []float32{0, 4, 8, 14, 1e6} {
		res, err := index.RangeSearch(bg, idx, q, radius, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Lims) != 4 || res.Lims[0] != 0 || res.Lims[3] != int64(len(res.IDs)) {
			t.Fatalf("radius %g: lims %v for %d results", radius, res.Lims, len(res.IDs))
		}
		for i := range 3 {
			wantIDs, wantDist := brute(x, q[i*8:(i+1)*8], ids, 8, radius)
			gotIDs, gotDist := res.IDs[res.Lims[i]:res.Lims[i+1]], res.Dist[res.Lims[i]:res.Lims[i+1]]
			if !slices.Equal(gotIDs, wantIDs) {
				t.Fatalf("radius %g, query %d: %d ids, want %d", radius, i, len(gotIDs), len(wantIDs))
			}
			for j := range gotDist {
				if math.Abs(float64(gotDist[j]-wantDist[j])) > 1e-4*float64(1+wantDist[j]) {
					t.Fatalf("radius %g, query %d: distance %g, want %g", radius, i, gotDist[j], wantDist[j])
				}
			}
		}
	}
}

func TestRangeSearch_PaddingIsNeverAResult(t *testing.T) {
	idx, x := filled(t, `{"type":"flat","dim":8}`)
	p := &index.SearchParams{Filter: &index.Filter{IDs: []int64{10, 12, 14}}}
	res, err := index.RangeSearch(bg, idx, x[:8], float32(math.Inf(1)), p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Lims, []int64{0, 3}) || slices.Contains(res.IDs, -1) {
		t.Fatalf("lims %v ids %v", res.Lims, res.IDs)
	}
}

func TestRangeSearch_EmptyAndUntrained(t *testing.T) {
	flat, err := index.New([]byte(`{"type":"flat","dim":4}`))
	if err != nil {
		t.Fatal(err)
	}
	q := make([]float32, 2*4)
	res, err := index.RangeSearch(bg, flat, q, 1, nil)
	if err != nil || !slices.Equal(res.Lims, []int64{0, 0, 0}) {
		t.Fatalf("empty index: %v %v", res.Lims, err)
	}
	ivf, err := index.New([]byte(`{"type":"ivf_flat","dim":4,"nlist":2}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := index.RangeSearch(bg, ivf, q, 1, nil); !errors.Is(err, errs.State) {
		t.Fatalf("untrained: %v, want errs.State", err)
	}
	if res, err := index.RangeSearch(bg, ivf, nil, 1, nil); err != nil || !slices.Equal(res.Lims, []int64{0}) {
		t.Fatalf("no queries: %v %v", res.Lims, err)
	}
}

func TestRangeSearch_HNSW_FindsWhatItsSearchFinds(t *testing.T) {
	idx, x := filled(t, `{"type":"hnsw","dim":8,"m":8}`)
	rng := rand.New(rand.NewSource(2))
	q := make([]float32, 8)
	for i := range q {
		q[i] = float32(rng.NormFloat64())
	}
	res, err := index.RangeSearch(bg, idx, q, 6, &index.SearchParams{Ef: 400})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, 300)
	for i := range ids {
		ids[i] = int64(10 + 2*i)
	}
	want, _ := brute(x, q, ids, 8, 6)
	if len(want) < 20 || !slices.Equal(res.IDs, want) {
		t.Fatalf("%d results, want the %d of brute force", len(res.IDs), len(want))
	}
}
