package pq

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
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errs.Closed
	}
	fw, err := format.NewWriter(w, TypeName)
	if err != nil {
		return err
	}
	stored := p.metric.Store(fw)
	m, _ := json.Marshal(meta{Meta: index.Meta{Layout: layoutVersion, Dim: p.dim, Stored: stored}, M: p.cb.M, NBits: p.cb.NBits, Seed: p.seed,
		Count: p.ids.Len(), NextID: p.ids.Next, Trained: p.cb.Trained()})
	fw.Bytes("meta", m)
	fw.Bytes("centroids", format.AsBytes(p.cb.Centroids))
	fw.Bytes("codes", p.codes)
	fw.Bytes("ids", format.AsBytes(p.ids.List()))
	return fw.Close()
}

func load(file *format.File) (index.Index, error) {
	bad := func(f string, a ...any) (index.Index, error) {
		return nil, fmt.Errorf("%w: pq: "+f, append([]any{errs.Corrupt}, a...)...)
	}
	var m meta
	bound, err := index.LoadMeta(file, TypeName, layoutVersion, &m, &m.Meta)
	if err != nil {
		return nil, err
	}
	if m.Count < 0 {
		return bad("count %d", m.Count)
	}
	p, err := New(m.Dim, bound, m.M, m.NBits, m.Seed)
	if err != nil {
		return bad("%v", err)
	}
	var secs [3][]byte
	for i, name := range []string{"centroids", "codes", "ids"} {
		if secs[i], err = file.Section(name, true); err != nil {
			return nil, err
		}
	}
	cents, e1 := format.View[float32](secs[0])
	ids, e2 := format.View[int64](secs[2])
	if e1 != nil || e2 != nil {
		return bad("sections not aligned")
	}
	want := 0
	if m.Trained {
		want = p.cb.M * p.cb.KSub * p.cb.DSub
	}
	if len(cents) != want || len(secs[1]) != m.Count*p.cb.CodeSize || len(ids) != m.Count || (!m.Trained && m.Count > 0) {
		return bad("sections do not match %d vectors of dim %d", m.Count, m.Dim)
	}
	if err := index.CheckFinite(cents, p.cb.DSub, "centroids"); err != nil {
		return bad("%v", err)
	}
	if m.Trained {
		p.cb.SetCentroids(append([]float32(nil), cents...))
	}
	p.codes = append([]uint8(nil), secs[1]...)
	if err := p.ids.Restore(ids, m.NextID); err != nil {
		return nil, fmt.Errorf("pq: %w", err)
	}
	return p, nil
}
