package sq

import (
	"fmt"
	"io"

	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

const layoutVersion = 1

type meta struct {
	index.Meta
	Bits    int    `json:"bits"`
	Range   string `json:"range"`
	Count   int    `json:"count"`
	NextID  int64  `json:"next_id"`
	Trained bool   `json:"trained"`
}

// Save implements index.Index. Sections: "meta", "vmin" and "vdiff" (dim
// float32 each), "codes" (count*code size bytes), "ids".
func (s *SQ) Save(w io.Writer) error {
	return s.SaveWith(w, TypeName, layoutVersion, func(fw *format.Writer, head index.Meta) error {
		rng := "per_dim"
		if s.uniform {
			rng = "uniform"
		}
		index.WriteMeta(fw, meta{Meta: head, Bits: s.bits, Range: rng, Count: s.ids.Len(), NextID: s.ids.Next, Trained: s.a != nil})
		format.Put(fw, "vmin", s.vmin)
		format.Put(fw, "vdiff", s.vdiff)
		format.Put(fw, "codes", s.codes)
		format.Put(fw, "ids", s.ids.List())
		return nil
	})
}

// load rebuilds the index from its sections; index.Loader has read the
// meta section into m.
func load(r *index.Sections, m *meta, bound *metric.Metric) (index.Index, error) {
	s, err := New(m.Dim, bound, m.Bits, m.Range)
	if err != nil {
		return nil, r.Corrupt("%v", err)
	}
	if !m.Trained && m.Count > 0 {
		return nil, r.Corrupt("%d vectors in an untrained index", m.Count)
	}
	ranges := 0 // rows of vmin and vdiff
	if m.Trained {
		ranges = 1
	}
	vmin := index.Floats(r, "vmin", ranges, m.Dim)
	vdiff := index.Floats(r, "vdiff", ranges, m.Dim)
	codes := index.Section[uint8](r, "codes", m.Count, s.codeSize)
	ids := index.Section[int64](r, "ids", m.Count, 1)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if m.Trained {
		s.setRange(append([]float32(nil), vmin...), append([]float32(nil), vdiff...))
	}
	s.codes = append([]uint8(nil), codes...)
	if err := s.ids.Restore(ids, m.NextID); err != nil {
		return nil, fmt.Errorf("sq: %w", err)
	}
	return s, nil
}
