package lsh

import (
	"testing"

	"github.com/oxvec/oxvec/core/index/loadtest"
)

// TestVerify_CatchesEveryCorruption proves Verify can fail: each damage
// to the hash functions, the buckets, the keys or the id mapping is
// errs.Internal, and loading a file that carries one (where a file can)
// is errs.Corrupt.
func TestVerify_CatchesEveryCorruption(t *testing.T) {
	fresh := loadtest.Fresh[*LSH](loadtest.Build{Spec: `{"type":"lsh","dim":5,"tables":3,"bits":4,"w":2}`, Add: 12, Sparse: true, RemoveEvery: 4})
	anyKey := func(x *LSH, t int) uint64 {
		for k := range x.buckets[t] {
			return k
		}
		return 0
	}
	loadtest.Corruptions(t, fresh, []loadtest.Damage[*LSH]{
		{Name: "id stored twice", File: true, Break: func(t *testing.T, x *LSH) { l := x.ids.List(); l[1] = l[0] }},
		{Name: "id at next_id", File: true, Break: func(t *testing.T, x *LSH) { x.ids.List()[0] = x.ids.Next }},
		{Name: "vectors short", File: true, Break: func(t *testing.T, x *LSH) { x.vecs = x.vecs[:len(x.vecs)-1] }},
		{Name: "offset out of range", File: true, Break: func(t *testing.T, x *LSH) { x.hashes.offs[2] = 1.5 }},
		{Name: "projections short", File: true, Break: func(t *testing.T, x *LSH) { x.hashes.proj = x.hashes.proj[:3] }},
		{Name: "untrained with vectors", File: true, Break: func(t *testing.T, x *LSH) { x.w = 0 }},
		{Name: "row in a stranger's bucket", Break: func(t *testing.T, x *LSH) { x.keys[0] ^= 1 }},
		{Name: "row filed twice", Break: func(t *testing.T, x *LSH) {
			k := x.keys[1]
			x.buckets[1][k] = append(x.buckets[1][k], 0)
		}},
		{Name: "empty bucket kept", Break: func(t *testing.T, x *LSH) { x.buckets[2][^anyKey(x, 2)] = []int32{} }},
		{Name: "row in no bucket", Break: func(t *testing.T, x *LSH) { delete(x.buckets[0], x.keys[0]) }},
	})
}
