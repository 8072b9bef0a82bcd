package binary

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
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
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return errs.Closed
	}
	fw, err := format.NewWriter(w, TypeName)
	if err != nil {
		return err
	}
	stored := b.metric.Store(fw)
	m, _ := json.Marshal(meta{Meta: index.Meta{Layout: layoutVersion, Dim: b.dim, Stored: stored}, Rerank: b.rerank, Count: b.ids.Len(),
		NextID: b.ids.Next, Trained: b.threshold != nil})
	fw.Bytes("meta", m)
	fw.Bytes("threshold", format.AsBytes(b.threshold))
	fw.Bytes("codes", format.AsBytes(b.codes))
	fw.Bytes("ids", format.AsBytes(b.ids.List()))
	fw.Bytes("vectors", format.AsBytes(b.vecs))
	return fw.Close()
}

func load(file *format.File) (index.Index, error) {
	bad := func(f string, a ...any) (index.Index, error) {
		return nil, fmt.Errorf("%w: binary: "+f, append([]any{errs.Corrupt}, a...)...)
	}
	var m meta
	bound, err := index.LoadMeta(file, TypeName, layoutVersion, &m, &m.Meta)
	if err != nil {
		return nil, err
	}
	if m.Count < 0 {
		return bad("count %d", m.Count)
	}
	b, err := New(m.Dim, bound, m.Rerank)
	if err != nil {
		return bad("%v", err)
	}
	var secs [4][]byte
	for i, name := range []string{"threshold", "codes", "ids", "vectors"} {
		if secs[i], err = file.Section(name, true); err != nil {
			return nil, err
		}
	}
	th, e1 := format.View[float32](secs[0])
	codes, e2 := format.View[uint64](secs[1])
	ids, e3 := format.View[int64](secs[2])
	vecs, e4 := format.View[float32](secs[3])
	for _, e := range []error{e1, e2, e3, e4} {
		if e != nil {
			return nil, e
		}
	}
	wantVecs := 0
	if m.Rerank > 0 {
		wantVecs = m.Count * m.Dim
	}
	if m.Trained != (len(th) == m.Dim) || (!m.Trained && len(th) != 0) || len(codes) != m.Count*b.words || len(ids) != m.Count || len(vecs) != wantVecs {
		return bad("sections do not match %d vectors of dim %d", m.Count, m.Dim)
	}
	if err := index.CheckFinite(vecs, m.Dim, "stored vectors"); err != nil {
		return bad("%v", err)
	}
	if err := index.CheckFinite(th, m.Dim, "thresholds"); err != nil {
		return bad("%v", err)
	}
	if m.Trained {
		b.threshold = append([]float32(nil), th...)
	}
	b.codes = append([]uint64(nil), codes...)
	if wantVecs > 0 {
		b.vecs = append([]float32(nil), vecs...)
	}
	if err := b.ids.Restore(ids, m.NextID); err != nil {
		return nil, fmt.Errorf("binary: %w", err)
	}
	return b, nil
}
