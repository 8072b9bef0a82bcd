package binary

import (
	"testing"

	"github.com/oxvec/oxvec/core/index/loadtest"
)

// TestVerify_CatchesEveryCorruption proves Verify can fail: each damage
// to the codes, the stored vectors or the id mapping is errs.Internal,
// and loading a file that carries it is errs.Corrupt.
func TestVerify_CatchesEveryCorruption(t *testing.T) {
	fresh := loadtest.Fresh[*Binary](loadtest.Build{Spec: `{"type":"binary","dim":5,"rerank":2}`, Train: 10, Add: 10, Sparse: true, RemoveEvery: 4})
	loadtest.Corruptions(t, fresh, []loadtest.Damage[*Binary]{
		{Name: "id stored twice", File: true, Break: func(t *testing.T, b *Binary) { l := b.ids.List(); l[1] = l[0] }},
		{Name: "id at next_id", File: true, Break: func(t *testing.T, b *Binary) { b.ids.List()[0] = b.ids.Next }},
		{Name: "codes short", File: true, Break: func(t *testing.T, b *Binary) { b.codes = b.codes[:len(b.codes)-1] }},
		{Name: "bit past dim", File: true, Break: func(t *testing.T, b *Binary) { b.codes[len(b.codes)-1] |= 1 << 63 }},
		{Name: "vectors short", File: true, Break: func(t *testing.T, b *Binary) { b.vecs = b.vecs[:len(b.vecs)-1] }},
		{Name: "untrained with vectors", File: true, Break: func(t *testing.T, b *Binary) { b.threshold = nil }},
	})
}
