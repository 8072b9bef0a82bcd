package opq

import (
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// Verify implements index.Verifier: m divides dim; once trained the
// rotation is dim x dim, held transposed and row by row, each the other's
// transpose; nothing is stored before; the inner index has the same dim
// and metric kind and passes its own Verify.
func (o *OPQ) Verify() error {
	o.RLock()
	rt, r := o.rt, o.r
	o.RUnlock()
	broken := func(format string, a ...any) error { return index.Broken(TypeName, format, a...) }
	d := o.Dim()
	if o.m < 1 || d%o.m != 0 {
		return broken("m %d does not divide dim %d", o.m, d)
	}
	if kind := o.Metric(); kind != metric.L2 && kind != metric.IP && kind != metric.Cosine {
		return broken("metric %s is not kept by a rotation", kind)
	}
	if rt == nil {
		if r != nil || o.inner.Len() > 0 {
			return broken("untrained, with a rotation of %d values and %d vectors", len(r), o.inner.Len())
		}
	} else {
		if len(rt) != d*d || len(r) != d*d {
			return broken("rotation of %d and %d values for dim %d", len(rt), len(r), d)
		}
		for i := range d {
			for j := range d {
				if rt[i*d+j] != r[j*d+i] {
					return broken("the two copies of the rotation differ at (%d, %d)", i, j)
				}
			}
		}
	}
	if o.inner.Dim() != d || o.inner.Metric() != o.Metric() {
		return broken("inner index of dim %d and metric %s, outer %d and %s", o.inner.Dim(), o.inner.Metric(), d, o.Metric())
	}
	return index.Verify(o.inner)
}
