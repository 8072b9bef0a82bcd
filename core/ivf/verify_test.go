package ivf

import (
	"testing"

	"github.com/oxvec/oxvec/core/index/loadtest"
)

// fullList returns the first list holding at least n ids.
func fullList(t *testing.T, x *IVF, n int) int {
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
// to lists or the id mapping is errs.Internal, and loading a file that
// carries it is errs.Corrupt.
func TestVerify_CatchesEveryCorruption(t *testing.T) {
	sparse := loadtest.Fresh[*IVF](loadtest.Build{Spec: `{"type":"ivf_flat","dim":3,"nlist":2}`, Train: 20, Add: 16, Sparse: true, RemoveEvery: 5})
	dense := loadtest.Fresh[*IVF](loadtest.Build{Spec: `{"type":"ivf_flat","dim":3,"nlist":2}`, Train: 20, Add: 16})
	damages := []loadtest.Damage[*IVF]{
		{Name: "id stored twice", File: true, Break: func(t *testing.T, x *IVF) {
			l := x.lists[fullList(t, x, 2)]
			l.ids[1] = l.ids[0]
		}},
		{Name: "id at next_id", File: true, Break: func(t *testing.T, x *IVF) {
			x.lists[fullList(t, x, 1)].ids[0] = x.ids.Next
		}},
		{Name: "map names another slot", Break: func(t *testing.T, x *IVF) {
			l := x.lists[fullList(t, x, 2)]
			l.ids[0], l.ids[1] = l.ids[1], l.ids[0]
		}},
		{Name: "vectors short", File: true, Break: func(t *testing.T, x *IVF) {
			l := &x.lists[fullList(t, x, 1)]
			l.vecs = l.vecs[:len(l.vecs)-1]
		}},
		{Name: "a list missing", File: true, Break: func(t *testing.T, x *IVF) { x.lists = x.lists[:len(x.lists)-1] }},
		{Name: "id dropped from a list", Break: func(t *testing.T, x *IVF) {
			l := &x.lists[fullList(t, x, 1)]
			l.ids, l.vecs = l.ids[1:], l.vecs[x.Dim():]
		}},
	}
	t.Run("id map", func(t *testing.T) { loadtest.Corruptions(t, sparse, damages) })
	t.Run("dense ids", func(t *testing.T) { loadtest.Corruptions(t, dense, damages[:2]) })
}
