package binary

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
	Rerank  int   `json:"rerank"`
	Count   int   `json:"count"`
	NextID  int64 `json:"next_id"`
	Trained bool  `json:"trained"`
}

// Save implements index.Index. Sections: "meta", "threshold" (dim
// float32), "codes" (count*words uint64), "ids", and "vectors" (count*dim
// float32, empty when rerank is 0).
func (b *Binary) Save(w io.Writer) error {
	return b.SaveWith(w, TypeName, layoutVersion, func(fw *format.Writer, head index.Meta) error {
		index.WriteMeta(fw, meta{Meta: head, Rerank: b.rerank, Count: b.ids.Len(), NextID: b.ids.Next, Trained: b.threshold != nil})
		format.Put(fw, "threshold", b.threshold)
		format.Put(fw, "codes", b.codes)
		format.Put(fw, "ids", b.ids.List())
		format.Put(fw, "vectors", b.vecs)
		return nil
	})
}

// load rebuilds the index from its sections; index.Loader has read the
// meta section into m.
func load(r *index.Sections, m *meta, bound *metric.Metric) (index.Index, error) {
	b, err := New(m.Dim, bound, m.Rerank)
	if err != nil {
		return nil, r.Corrupt("%v", err)
	}
	if !m.Trained && m.Count > 0 {
		return nil, r.Corrupt("%d vectors in an untrained index", m.Count)
	}
	thresholds, kept := 0, 0 // rows of the threshold and of the vectors kept for re-ranking
	if m.Trained {
		thresholds = 1
	}
	if m.Rerank > 0 {
		kept = m.Count
	}
	th := index.Floats(r, "threshold", thresholds, m.Dim)
	codes := index.Section[uint64](r, "codes", m.Count, b.words)
	ids := index.Section[int64](r, "ids", m.Count, 1)
	vecs := index.Floats(r, "vectors", kept, m.Dim)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if row := paddedRow(codes, b.words, m.Dim); row >= 0 {
		return nil, r.Corrupt("code %d has bits set past dim %d", row, m.Dim)
	}
	if m.Trained {
		b.threshold = append([]float32(nil), th...)
	}
	b.codes = append([]uint64(nil), codes...)
	if kept > 0 {
		b.vecs = append([]float32(nil), vecs...)
	}
	if err := b.ids.Restore(ids, m.NextID); err != nil {
		return nil, fmt.Errorf("binary: %w", err)
	}
	return b, nil
}
