package pq

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
	M       int    `json:"m"`
	NBits   int    `json:"nbits"`
	Seed    uint64 `json:"seed"`
	Count   int    `json:"count"`
	NextID  int64  `json:"next_id"`
	Trained bool   `json:"trained"`
}

// Save implements index.Index. Sections: "meta", "centroids" (m*ksub*dsub
// float32), "codes" (count*code size bytes), "ids".
func (p *PQ) Save(w io.Writer) error {
	return p.SaveWith(w, TypeName, layoutVersion, func(fw *format.Writer, head index.Meta) error {
		index.WriteMeta(fw, meta{Meta: head, M: p.cb.M, NBits: p.cb.NBits, Seed: p.seed, Count: p.ids.Len(), NextID: p.ids.Next, Trained: p.cb.Trained()})
		format.Put(fw, "centroids", p.cb.Centroids)
		format.Put(fw, "codes", p.codes)
		format.Put(fw, "ids", p.ids.List())
		return nil
	})
}

// load rebuilds the index from its sections; index.Loader has read the
// meta section into m.
func load(r *index.Sections, m *meta, bound *metric.Metric) (index.Index, error) {
	p, err := New(m.Dim, bound, m.M, m.NBits, m.Seed)
	if err != nil {
		return nil, r.Corrupt("%v", err)
	}
	if !m.Trained && m.Count > 0 {
		return nil, r.Corrupt("%d vectors in an untrained index", m.Count)
	}
	cb := p.cb
	cents := 0 // rows of dsub values: ksub per sub-quantizer
	if m.Trained {
		cents = cb.M * cb.KSub
	}
	centroids := index.Floats(r, "centroids", cents, cb.DSub)
	codes := index.Section[uint8](r, "codes", m.Count, cb.CodeSize)
	ids := index.Section[int64](r, "ids", m.Count, 1)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if m.Trained {
		cb.SetCentroids(append([]float32(nil), centroids...))
	}
	p.codes = append([]uint8(nil), codes...)
	if err := p.ids.Restore(ids, m.NextID); err != nil {
		return nil, fmt.Errorf("pq: %w", err)
	}
	return p, nil
}
