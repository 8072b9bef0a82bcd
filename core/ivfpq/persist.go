package ivfpq

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
	M       int    `json:"m"`
	NBits   int    `json:"nbits"`
	Refine  int    `json:"refine"`
	Seed    uint64 `json:"seed"`
	NextID  int64  `json:"next_id"`
	Trained bool   `json:"trained"`
}

// Save implements index.Index. Sections: "meta", "centroids" (cells),
// "codebook" (PQ centroids), "sizes" (per list), and the lists one after
// the other in "ids", "codes" and "vectors" (refine > 0).
func (x *IVFPQ) Save(w io.Writer) error {
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
	m, _ := json.Marshal(meta{Meta: index.Meta{Layout: layoutVersion, Dim: x.dim, Stored: stored}, NList: x.nlist, NProbe: int(x.nprobe.Load()), M: x.cb.M,
		NBits: x.cb.NBits, Refine: x.refine, Seed: x.seed, NextID: x.ids.Next, Trained: x.centroids != nil})
	fw.Bytes("meta", m)
	sizes := make([]int64, len(x.lists))
	var ids []int64
	var codes []uint8
	var vecs []float32
	for i, l := range x.lists {
		sizes[i] = int64(len(l.ids))
		ids, codes, vecs = append(ids, l.ids...), append(codes, l.codes...), append(vecs, l.vecs...)
	}
	fw.Bytes("centroids", format.AsBytes(x.centroids))
	fw.Bytes("codebook", format.AsBytes(x.cb.Centroids))
	fw.Bytes("sizes", format.AsBytes(sizes))
	fw.Bytes("ids", format.AsBytes(ids))
	fw.Bytes("codes", codes)
	fw.Bytes("vectors", format.AsBytes(vecs))
	return fw.Close()
}

func load(file *format.File) (index.Index, error) {
	bad := func(f string, a ...any) (index.Index, error) {
		return nil, fmt.Errorf("%w: ivf_pq: "+f, append([]any{errs.Corrupt}, a...)...)
	}
	var m meta
	bound, err := index.LoadMeta(file, TypeName, layoutVersion, &m, &m.Meta)
	if err != nil {
		return nil, err
	}
	x, err := New(m.Dim, bound, m.NList, m.NProbe, m.M, m.NBits, m.Refine, m.Seed)
	if err != nil {
		return bad("%v", err)
	}
	names := []string{"centroids", "codebook", "sizes", "ids", "codes", "vectors"}
	secs := make([][]byte, len(names))
	for i, name := range names {
		if secs[i], err = file.Section(name, true); err != nil {
			return nil, err
		}
	}
	cents, e1 := format.View[float32](secs[0])
	book, e2 := format.View[float32](secs[1])
	sizes, e3 := format.View[int64](secs[2])
	ids, e4 := format.View[int64](secs[3])
	vecs, e5 := format.View[float32](secs[5])
	for _, e := range []error{e1, e2, e3, e4, e5} {
		if e != nil {
			return nil, e
		}
	}
	codes := secs[4]
	if !m.Trained {
		if len(cents)+len(book)+len(sizes)+len(ids)+len(codes)+len(vecs) != 0 {
			return bad("untrained index with data")
		}
		return x, nil
	}
	cs, d := x.cb.CodeSize, m.Dim
	wantVecs := 0
	if m.Refine > 0 {
		wantVecs = len(ids) * d
	}
	if len(cents) != m.NList*d || len(book) != x.cb.M*x.cb.KSub*x.cb.DSub || len(sizes) != m.NList ||
		len(codes) != len(ids)*cs || len(vecs) != wantVecs {
		return bad("sections do not match nlist %d, dim %d", m.NList, d)
	}
	for _, s := range [][]float32{cents, book, vecs} {
		if err := index.CheckFinite(s, 1, "stored values"); err != nil {
			return bad("%v", err)
		}
	}
	x.cb.SetCentroids(append([]float32(nil), book...))
	x.centroids = append([]float32(nil), cents...)
	if x.quant, err = x.quantizer(x.centroids); err != nil {
		return nil, err
	}
	x.lists = make([]list, m.NList)
	x.precompute()
	at := 0
	for c, n64 := range sizes {
		n := int(n64)
		if n < 0 || at+n > len(ids) {
			return bad("list sizes exceed the stored ids")
		}
		l := &x.lists[c]
		l.ids = append([]int64(nil), ids[at:at+n]...)
		l.codes = append([]uint8(nil), codes[at*cs:(at+n)*cs]...)
		if wantVecs > 0 {
			l.vecs = append([]float32(nil), vecs[at*d:(at+n)*d]...)
		}
		at += n
	}
	if at != len(ids) {
		return bad("list sizes cover %d of %d ids", at, len(ids))
	}
	if err := x.ids.Restore(x.each, m.NextID); err != nil {
		return nil, fmt.Errorf("ivf_pq: %w", err)
	}
	return x, nil
}
