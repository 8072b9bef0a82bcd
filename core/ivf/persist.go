package ivf

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
	NList   int    `json:"nlist"`
	NProbe  int    `json:"nprobe"`
	Seed    uint64 `json:"seed"`
	NextID  int64  `json:"next_id"`
	Trained bool   `json:"trained"`
}

// Save implements index.Index. Sections: "meta" (JSON), "centroids"
// (nlist*dim float32), "sizes" (nlist int64), "ids" and "vectors" (the
// lists one after the other). Norms are recomputed on load.
func (x *IVF) Save(w io.Writer) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return errs.Closed
	}
	fw, err := format.NewWriter(w, TypeName)
	if err != nil {
		return err
	}
	stored := x.metric.Store(fw)
	m, _ := json.Marshal(meta{Meta: index.Meta{Layout: layoutVersion, Dim: x.dim, Stored: stored}, NList: x.nlist, NProbe: int(x.nprobe.Load()),
		Seed: x.seed, NextID: x.ids.Next, Trained: x.centroids != nil})
	fw.Bytes("meta", m)
	sizes := make([]int64, len(x.lists))
	var ids []int64
	var vecs []float32
	for i, l := range x.lists {
		sizes[i] = int64(len(l.ids))
		ids = append(ids, l.ids...)
		vecs = append(vecs, l.vecs...)
	}
	fw.Bytes("centroids", format.AsBytes(x.centroids))
	fw.Bytes("sizes", format.AsBytes(sizes))
	fw.Bytes("ids", format.AsBytes(ids))
	fw.Bytes("vectors", format.AsBytes(vecs))
	return fw.Close()
}

func load(file *format.File) (index.Index, error) {
	bad := func(f string, a ...any) (index.Index, error) {
		return nil, fmt.Errorf("%w: ivf_flat: "+f, append([]any{errs.Corrupt}, a...)...)
	}
	var m meta
	bound, err := index.LoadMeta(file, TypeName, layoutVersion, &m, &m.Meta)
	if err != nil {
		return nil, err
	}
	x, err := New(m.Dim, bound, m.NList, m.NProbe, m.Seed)
	if err != nil {
		return bad("%v", err)
	}
	sec := func(name string) ([]byte, error) { return file.Section(name, true) }
	rc, err := sec("centroids")
	if err != nil {
		return nil, err
	}
	rs, err := sec("sizes")
	if err != nil {
		return nil, err
	}
	ri, err := sec("ids")
	if err != nil {
		return nil, err
	}
	rv, err := sec("vectors")
	if err != nil {
		return nil, err
	}
	cents, err1 := format.View[float32](rc)
	sizes, err2 := format.View[int64](rs)
	ids, err3 := format.View[int64](ri)
	vecs, err4 := format.View[float32](rv)
	for _, e := range []error{err1, err2, err3, err4} {
		if e != nil {
			return nil, e
		}
	}
	if !m.Trained {
		if len(cents)+len(sizes)+len(ids)+len(vecs) != 0 {
			return bad("untrained index with data")
		}
		return x, nil
	}
	if len(cents) != m.NList*m.Dim || len(sizes) != m.NList || len(vecs) != len(ids)*m.Dim {
		return bad("sections do not match nlist %d, dim %d", m.NList, m.Dim)
	}
	if err := index.CheckFinite(cents, m.Dim, "centroids"); err != nil {
		return bad("%v", err)
	}
	if err := index.CheckFinite(vecs, m.Dim, "stored vectors"); err != nil {
		return bad("%v", err)
	}
	if err := x.setCentroids(append([]float32(nil), cents...)); err != nil {
		return nil, err
	}
	at := int64(0)
	for c, n := range sizes {
		if n < 0 || at+n > int64(len(ids)) {
			return bad("list sizes exceed the stored ids")
		}
		l := &x.lists[c]
		l.ids = append([]int64(nil), ids[at:at+n]...)
		l.vecs = append([]float32(nil), vecs[at*int64(m.Dim):(at+n)*int64(m.Dim)]...)
		at += n
	}
	if at != int64(len(ids)) {
		return bad("list sizes cover %d of %d ids", at, len(ids))
	}
	if err := x.ids.Restore(x.each, m.NextID); err != nil {
		return nil, fmt.Errorf("ivf_flat: %w", err)
	}
	return x, nil
}
