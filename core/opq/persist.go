package opq

import (
	"bytes"
	"fmt"
	"io"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// meta is the "meta" section. It has no layout field (layout 0).
type meta struct {
	index.Meta
	M       int  `json:"m"`
	Iters   int  `json:"iters"`
	Trained bool `json:"trained"`
}

// Save implements index.Index. Sections: "meta", "rotation" (R transposed,
// dim*dim float32) and "inner" (the inner index's own file).
func (o *OPQ) Save(w io.Writer) error {
	return o.SaveWith(w, TypeName, 0, func(fw *format.Writer, head index.Meta) error {
		index.WriteMeta(fw, meta{Meta: head, M: o.m, Iters: o.iters, Trained: o.rt != nil})
		format.Put(fw, "rotation", o.rt)
		var inner bytes.Buffer
		if err := o.inner.Save(&inner); err != nil {
			return err
		}
		fw.Bytes("inner", inner.Bytes())
		return nil
	})
}

// load rebuilds the index from its sections; index.Loader has read the
// meta section into m.
func load(r *index.Sections, m *meta, bound *metric.Metric) (index.Index, error) {
	rows := 0 // of the rotation
	if m.Trained {
		rows = m.Dim
	}
	rt := index.Floats(r, "rotation", rows, m.Dim)
	ib := index.Section[uint8](r, "inner", index.AnyRows, 1)
	if err := r.Err(); err != nil {
		return nil, err
	}
	inner, err := index.Load(append([]byte(nil), ib...))
	if err != nil {
		return nil, fmt.Errorf("opq inner index: %w", err)
	}
	if inner.Dim() != m.Dim {
		return nil, fmt.Errorf("%w: opq inner index has dim %d, rotation %d", errs.Corrupt, inner.Dim(), m.Dim)
	}
	if k := bound.Kind; (k != metric.L2 && k != metric.IP && k != metric.Cosine) || inner.Metric() != k || m.M < 1 || m.Dim%m.M != 0 ||
		(!m.Trained && inner.Len() > 0) {
		inner.Close()
		return nil, fmt.Errorf("%w: opq of metric %s, m %d, dim %d, trained %v: inner index of metric %s with %d vectors", errs.Corrupt,
			bound.Kind, m.M, m.Dim, m.Trained, inner.Metric(), inner.Len())
	}
	o := &OPQ{Base: index.NewBase(m.Dim, bound), m: m.M, iters: m.Iters, inner: inner}
	if m.Trained {
		o.rt = append([]float32(nil), rt...)
		o.r = transpose(o.rt, m.Dim)
	}
	return o, nil
}
