package sq

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
	Bits    int    `json:"bits"`
	Range   string `json:"range"`
	Count   int    `json:"count"`
	NextID  int64  `json:"next_id"`
	Trained bool   `json:"trained"`
}

// Save implements index.Index. Sections: "meta", "vmin" and "vdiff" (dim
// float32 each), "codes" (count*code size bytes), "ids".
func (s *SQ) Save(w io.Writer) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errs.Closed
	}
	fw, err := format.NewWriter(w, TypeName)
	if err != nil {
		return err
	}
	stored := s.metric.Store(fw)
	rng := "per_dim"
	if s.uniform {
		rng = "uniform"
	}
	m, _ := json.Marshal(meta{Meta: index.Meta{Layout: layoutVersion, Dim: s.dim, Stored: stored}, Bits: s.bits, Range: rng, Count: s.ids.Len(),
		NextID: s.ids.Next, Trained: s.a != nil})
	fw.Bytes("meta", m)
	fw.Bytes("vmin", format.AsBytes(s.vmin))
	fw.Bytes("vdiff", format.AsBytes(s.vdiff))
	fw.Bytes("codes", s.codes)
	fw.Bytes("ids", format.AsBytes(s.ids.List()))
	return fw.Close()
}

func load(file *format.File) (index.Index, error) {
	bad := func(f string, a ...any) (index.Index, error) {
		return nil, fmt.Errorf("%w: sq: "+f, append([]any{errs.Corrupt}, a...)...)
	}
	var m meta
	bound, err := index.LoadMeta(file, TypeName, layoutVersion, &m, &m.Meta)
	if err != nil {
		return nil, err
	}
	if m.Count < 0 {
		return bad("count %d", m.Count)
	}
	s, err := New(m.Dim, bound, m.Bits, m.Range)
	if err != nil {
		return bad("%v", err)
	}
	var secs [4][]byte
	for i, name := range []string{"vmin", "vdiff", "codes", "ids"} {
		if secs[i], err = file.Section(name, true); err != nil {
			return nil, err
		}
	}
	vmin, e1 := format.View[float32](secs[0])
	vdiff, e2 := format.View[float32](secs[1])
	ids, e3 := format.View[int64](secs[3])
	for _, e := range []error{e1, e2, e3} {
		if e != nil {
			return nil, e
		}
	}
	want := 0
	if m.Trained {
		want = m.Dim
	}
	if len(vmin) != want || len(vdiff) != want || len(secs[2]) != m.Count*s.codeSize || len(ids) != m.Count || (!m.Trained && m.Count > 0) {
		return bad("sections do not match %d vectors of dim %d", m.Count, m.Dim)
	}
	if err := index.CheckFinite(vmin, m.Dim, "range"); err != nil {
		return bad("%v", err)
	}
	if err := index.CheckFinite(vdiff, m.Dim, "range"); err != nil {
		return bad("%v", err)
	}
	if m.Trained {
		s.setRange(append([]float32(nil), vmin...), append([]float32(nil), vdiff...))
	}
	s.codes = append([]uint8(nil), secs[2]...)
	if err := s.ids.Restore(ids, m.NextID); err != nil {
		return nil, fmt.Errorf("sq: %w", err)
	}
	return s, nil
}
