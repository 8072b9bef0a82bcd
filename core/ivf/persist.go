package ivf

import (
	"fmt"
	"io"
	"slices"

	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/probepolicy"
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
// lists one after the other), "policy" (float32, empty without a learned
// search policy; files from before it have none). Norms are recomputed
// on load.
func (x *IVF) Save(w io.Writer) error {
	return x.SaveWith(w, TypeName, layoutVersion, func(fw *format.Writer, head index.Meta) error {
		index.WriteMeta(fw, meta{Meta: head, NList: x.nlist, NProbe: int(x.nprobe.Load()), Seed: x.seed, NextID: x.ids.Next, Trained: x.centroids != nil})
		sizes := make([]int64, len(x.lists))
		var ids []int64
		var vecs []float32
		for i, l := range x.lists {
			sizes[i] = int64(len(l.ids))
			ids = append(ids, l.ids...)
			vecs = append(vecs, l.vecs...)
		}
		format.Put(fw, "centroids", x.centroids)
		format.Put(fw, "sizes", sizes)
		format.Put(fw, "ids", ids)
		format.Put(fw, "vectors", vecs)
		format.Put(fw, "policy", x.policy.Encode())
		return nil
	})
}

// load rebuilds the index from its sections; index.Loader has read the
// meta section into m.
func load(r *index.Sections, m *meta, bound *metric.Metric) (index.Index, error) {
	x, err := New(m.Dim, bound, m.NList, m.NProbe, m.Seed)
	if err != nil {
		return nil, r.Corrupt("%v", err)
	}
	lists, stored := 0, 0 // an untrained index has no data
	if m.Trained {
		lists, stored = m.NList, index.AnyRows
	}
	cents := index.Floats(r, "centroids", lists, m.Dim)
	sizes := index.Section[int64](r, "sizes", lists, 1)
	ids := index.Section[int64](r, "ids", stored, 1)
	vecs := index.Floats(r, "vectors", len(ids), m.Dim)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if !m.Trained {
		return x, nil
	}
	if err := x.setCentroids(append([]float32(nil), cents...)); err != nil {
		return nil, err
	}
	at := int64(0)
	for c, n := range sizes {
		if n < 0 || at+n > int64(len(ids)) {
			return nil, r.Corrupt("list sizes exceed the stored ids")
		}
		l := &x.lists[c]
		l.ids = append([]int64(nil), ids[at:at+n]...)
		l.vecs = append([]float32(nil), vecs[at*int64(m.Dim):(at+n)*int64(m.Dim)]...)
		at += n
	}
	if at != int64(len(ids)) {
		return nil, r.Corrupt("list sizes cover %d of %d ids", at, len(ids))
	}
	if err := x.ids.Restore(x.each, m.NextID); err != nil {
		return nil, fmt.Errorf("ivf_flat: %w", err)
	}
	if slices.Contains(r.File().Tags(), "policy") {
		raw := index.Floats(r, "policy", index.AnyRows, 1)
		if err := r.Err(); err != nil {
			return nil, err
		}
		if x.policy, err = probepolicy.Decode(raw); err != nil {
			return nil, r.Corrupt("%v", err)
		}
	}
	return x, nil
}
