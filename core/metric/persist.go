package metric

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
)

// Stored is how an index file records its metric: the kind and minkowski's p
// in the index's meta JSON, the V and VI arrays in sections of their own.
type Stored struct {
	Kind uint32  `json:"metric"`
	P    float64 `json:"metric_p,omitempty"`
}

// Store returns m's meta fields and writes its array parameters as sections.
func (m *Metric) Store(fw *format.Writer) Stored {
	if m.V != nil {
		fw.Bytes("metric_v", format.AsBytes(m.V))
	}
	if m.VI != nil {
		fw.Bytes("metric_vi", format.AsBytes(m.VI))
	}
	return Stored{Kind: uint32(m.Kind), P: m.P}
}

// Restore rebuilds a metric from an index file's meta fields and sections.
func Restore(f *format.File, s Stored, dim int) (*Metric, error) {
	kind := Kind(s.Kind)
	if !kind.Valid() {
		return nil, fmt.Errorf("%w: unknown metric %d in file", errs.Corrupt, s.Kind)
	}
	var p Params
	switch kind {
	case Minkowski:
		p.P = &s.P
	case SEuclidean:
		raw, err := f.Section("metric_v", true)
		if err != nil {
			return nil, err
		}
		if p.V, err = format.View[float64](raw); err != nil {
			return nil, err
		}
	case Mahalanobis:
		raw, err := f.Section("metric_vi", true)
		if err != nil {
			return nil, err
		}
		vi, err := format.View[float64](raw)
		if err != nil {
			return nil, err
		}
		if len(vi) != dim*dim {
			return nil, fmt.Errorf("%w: metric_vi holds %d values, need %d", errs.Corrupt, len(vi), dim*dim)
		}
		for i := 0; i < dim; i++ {
			p.VI = append(p.VI, vi[i*dim:(i+1)*dim])
		}
	}
	m, err := New(kind, dim, p)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errs.Corrupt, err)
	}
	return m, nil
}
