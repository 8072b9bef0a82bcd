package flat

import (
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// Verify implements index.Verifier: dim values per id; for l2-family
// metrics one norm per row (none otherwise); the row list and the id map
// are inverse bijections, with ids in [0, next_id).
func (f *Flat) Verify() error {
	f.RLock()
	defer f.RUnlock()
	if f.Closed() {
		return nil
	}
	broken := func(format string, a ...any) error { return index.Broken(TypeName, format, a...) }
	n := len(f.ids)
	wantNorms := 0
	if f.Bound().Class() == metric.ClassL2 {
		wantNorms = n
	}
	if len(f.vecs) != n*f.Dim() || len(f.norms) != wantNorms || len(f.rows) != n {
		return broken("%d ids, %d values of dim %d, %d norms, %d mapped", n, len(f.vecs), f.Dim(), len(f.norms), len(f.rows))
	}
	for r, id := range f.ids {
		if id < 0 || id >= f.nextID {
			return broken("row %d holds id %d outside [0, next_id=%d)", r, id, f.nextID)
		}
		if got, ok := f.rows[id]; !ok || int(got) != r {
			return broken("row %d holds id %d, which maps to row %d (present %v)", r, id, got, ok)
		}
	}
	return nil
}
