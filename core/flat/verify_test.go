package flat

import (
	"testing"

	"github.com/oxvec/oxvec/core/index/loadtest"
)

// TestVerify_CatchesEveryCorruption proves Verify can fail: each damage
// to the rows, norms or the id map is errs.Internal, and loading a file
// that carries it is errs.Corrupt.
func TestVerify_CatchesEveryCorruption(t *testing.T) {
	fresh := loadtest.Fresh[*Flat](loadtest.Build{Spec: `{"type":"flat","dim":3}`, Add: 10, Sparse: true, RemoveEvery: 4})
	loadtest.Corruptions(t, fresh, []loadtest.Damage[*Flat]{
		{Name: "id stored twice", File: true, Break: func(t *testing.T, f *Flat) { f.ids[1] = f.ids[0] }},
		{Name: "id at next_id", File: true, Break: func(t *testing.T, f *Flat) { f.ids[0] = f.nextID }},
		{Name: "vectors short", File: true, Break: func(t *testing.T, f *Flat) { f.vecs = f.vecs[:len(f.vecs)-1] }},
		{Name: "norms short", Break: func(t *testing.T, f *Flat) { f.norms = f.norms[:len(f.norms)-1] }},
		{Name: "map names another row", Break: func(t *testing.T, f *Flat) { f.rows[f.ids[0]] = 1 }},
	})
}
