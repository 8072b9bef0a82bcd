package pq

import (
	"testing"

	"github.com/oxvec/oxvec/core/index/loadtest"
)

// TestVerify_CatchesEveryCorruption proves Verify can fail: each damage
// to the codes, the codebook or the id mapping is errs.Internal, and
// loading a file that carries it is errs.Corrupt.
func TestVerify_CatchesEveryCorruption(t *testing.T) {
	fresh := loadtest.Fresh[*PQ](loadtest.Build{Spec: `{"type":"pq","dim":4,"m":2,"nbits":4}`, Train: 20, Add: 10, Sparse: true, RemoveEvery: 4})
	loadtest.Corruptions(t, fresh, []loadtest.Damage[*PQ]{
		{Name: "id stored twice", File: true, Break: func(t *testing.T, p *PQ) { l := p.ids.List(); l[1] = l[0] }},
		{Name: "id at next_id", File: true, Break: func(t *testing.T, p *PQ) { p.ids.List()[0] = p.ids.Next }},
		{Name: "codes short", File: true, Break: func(t *testing.T, p *PQ) { p.codes = p.codes[:len(p.codes)-1] }},
		{Name: "codebook short", File: true, Break: func(t *testing.T, p *PQ) { p.cb.Centroids = p.cb.Centroids[:len(p.cb.Centroids)-1] }},
		{Name: "untrained with vectors", File: true, Break: func(t *testing.T, p *PQ) { p.cb.Centroids = nil }},
	})
}
