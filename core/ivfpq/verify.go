package ivfpq

import (
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// Verify implements index.Verifier: trained exactly when the cells (nlist
// x dim), the codebook, the quantizer and nlist lists exist, untrained with
// no lists; the l2 family's cell tables cover every cell; each list holds
// one code of the code size per id and, with refine, dim values per id (no
// vectors without); the id mapping agrees with the lists (every stored id
// once, in [0, next_id), at the slot the map names).
func (x *IVFPQ) Verify() error {
	x.RLock()
	defer x.RUnlock()
	if x.Closed() {
		return nil
	}
	broken := func(format string, a ...any) error { return index.Broken(TypeName, format, a...) }
	cb := x.cb
	if x.centroids == nil {
		if x.quant != nil || len(x.lists) != 0 || x.ids.Len() != 0 {
			return broken("untrained, with a quantizer (%v), %d lists, %d ids", x.quant != nil, len(x.lists), x.ids.Len())
		}
		return nil
	}
	if len(x.centroids) != x.nlist*x.Dim() || x.quant == nil || len(x.lists) != x.nlist {
		return broken("%d cell values, %d lists for nlist %d of dim %d (quantizer %v)", len(x.centroids), len(x.lists), x.nlist, x.Dim(), x.quant != nil)
	}
	if !cb.Trained() || len(cb.Centroids) != cb.M*cb.KSub*cb.DSub || cb.M*cb.DSub != x.Dim() {
		return broken("codebook of %d values for m %d, %d centroids of %d values, dim %d", len(cb.Centroids), cb.M, cb.KSub, cb.DSub, x.Dim())
	}
	wantPre := 0
	if x.Bound().Class() == metric.ClassL2 {
		wantPre = x.nlist * cb.TableRows()
	}
	if len(x.pre) != wantPre {
		return broken("%d precomputed table rows, %d cells need %d", len(x.pre), x.nlist, wantPre)
	}
	if err := x.policy.Verify(); err != nil {
		return broken("%v", err)
	}
	for c, l := range x.lists {
		wantVecs := 0
		if x.refine > 0 {
			wantVecs = len(l.ids) * x.Dim()
		}
		if len(l.codes) != len(l.ids)*cb.CodeSize || len(l.vecs) != wantVecs {
			return broken("list %d: %d ids, %d code bytes (code size %d), %d values (refine %d)", c, len(l.ids), len(l.codes), cb.CodeSize, len(l.vecs), x.refine)
		}
	}
	return x.ids.Verify(x.each, TypeName)
}
