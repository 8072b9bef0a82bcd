package sq

import (
	"testing"

	"github.com/oxvec/oxvec/core/index/loadtest"
)

// TestVerify_CatchesEveryCorruption proves Verify can fail: each damage
// to the codes, the range or the id mapping is errs.Internal, and loading
// a file that carries it is errs.Corrupt.
func TestVerify_CatchesEveryCorruption(t *testing.T) {
	fresh := loadtest.Fresh[*SQ](loadtest.Build{Spec: `{"type":"sq","dim":5,"bits":4}`, Train: 10, Add: 10, Sparse: true, RemoveEvery: 4})
	loadtest.Corruptions(t, fresh, []loadtest.Damage[*SQ]{
		{Name: "id stored twice", File: true, Break: func(t *testing.T, s *SQ) { l := s.ids.List(); l[1] = l[0] }},
		{Name: "id at next_id", File: true, Break: func(t *testing.T, s *SQ) { s.ids.List()[0] = s.ids.Next }},
		{Name: "codes short", File: true, Break: func(t *testing.T, s *SQ) { s.codes = s.codes[:len(s.codes)-1] }},
		{Name: "range short", File: true, Break: func(t *testing.T, s *SQ) { s.vmin = s.vmin[:1] }},
		{Name: "weights short", Break: func(t *testing.T, s *SQ) { s.a2 = s.a2[:1] }},
		{Name: "untrained with vectors", File: true, Break: func(t *testing.T, s *SQ) { s.a, s.b, s.a2 = nil, nil, nil }},
	})
}
