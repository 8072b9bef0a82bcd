package ivfpq

import (
	"testing"

	"github.com/oxvec/oxvec/core/index/loadtest"
)

// fullList returns the first list holding at least n ids.
func fullList(t *testing.T, x *IVFPQ, n int) int {
	t.Helper()
	for c, l := range x.lists {
		if len(l.ids) >= n {
			return c
		}
	}
	t.Fatalf("no list holds %d ids", n)
	return 0
}

// TestVerify_CatchesEveryCorruption proves Verify can fail: each damage
// to lists, codes, tables or the id mapping is errs.Internal, and loading
// a file that carries it is errs.Corrupt.
func TestVerify_CatchesEveryCorruption(t *testing.T) {
	spec := `{"type":"ivf_pq","dim":4,"nlist":2,"m":2,"nbits":4,"refine":2}`
	sparse := loadtest.Fresh[*IVFPQ](loadtest.Build{Spec: spec, Train: 40, Add: 16, Sparse: true, RemoveEvery: 5})
	dense := loadtest.Fresh[*IVFPQ](loadtest.Build{Spec: spec, Train: 40, Add: 16})
	damages := []loadtest.Damage[*IVFPQ]{
		{Name: "id stored twice", File: true, Break: func(t *testing.T, x *IVFPQ) {
			l := x.lists[fullList(t, x, 2)]
			l.ids[1] = l.ids[0]
		}},
		{Name: "id at next_id", File: true, Break: func(t *testing.T, x *IVFPQ) {
			x.lists[fullList(t, x, 1)].ids[0] = x.ids.Next
		}},
		{Name: "map names another slot", Break: func(t *testing.T, x *IVFPQ) {
			l := x.lists[fullList(t, x, 2)]
			l.ids[0], l.ids[1] = l.ids[1], l.ids[0]
		}},
		{Name: "codes short", File: true, Break: func(t *testing.T, x *IVFPQ) {
			l := &x.lists[fullList(t, x, 1)]
			l.codes = l.codes[:len(l.codes)-1]
		}},
		{Name: "refine vectors short", File: true, Break: func(t *testing.T, x *IVFPQ) {
			l := &x.lists[fullList(t, x, 1)]
			l.vecs = l.vecs[:len(l.vecs)-1]
		}},
		{Name: "cell tables short", Break: func(t *testing.T, x *IVFPQ) { x.pre = x.pre[:len(x.pre)-1] }},
		{Name: "codebook short", File: true, Break: func(t *testing.T, x *IVFPQ) { x.cb.Centroids = x.cb.Centroids[:len(x.cb.Centroids)-1] }},
	}
	t.Run("id map", func(t *testing.T) { loadtest.Corruptions(t, sparse, damages) })
	t.Run("dense ids", func(t *testing.T) { loadtest.Corruptions(t, dense, damages[:2]) })
}
