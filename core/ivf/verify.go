package ivf

import "github.com/oxvec/oxvec/core/index"

// Verify implements index.Verifier: trained exactly when centroids (nlist
// x dim), the quantizer and nlist lists exist, untrained with no lists;
// each list holds dim values per id; the id mapping agrees with the lists
// (every stored id once, in [0, next_id), at the slot the map names).
func (x *IVF) Verify() error {
	x.RLock()
	defer x.RUnlock()
	if x.Closed() {
		return nil
	}
	broken := func(format string, a ...any) error { return index.Broken(TypeName, format, a...) }
	if x.centroids == nil {
		if x.quant != nil || len(x.lists) != 0 || x.ids.Len() != 0 {
			return broken("untrained, with a quantizer (%v), %d lists, %d ids", x.quant != nil, len(x.lists), x.ids.Len())
		}
		return nil
	}
	if len(x.centroids) != x.nlist*x.Dim() || x.quant == nil || len(x.lists) != x.nlist {
		return broken("%d centroid values, %d lists for nlist %d of dim %d (quantizer %v)", len(x.centroids), len(x.lists), x.nlist, x.Dim(), x.quant != nil)
	}
	for c, l := range x.lists {
		if len(l.vecs) != len(l.ids)*x.Dim() {
			return broken("list %d: %d ids, %d values", c, len(l.ids), len(l.vecs))
		}
	}
	if err := x.policy.Verify(); err != nil {
		return broken("%v", err)
	}
	return x.ids.Verify(x.each, TypeName)
}
