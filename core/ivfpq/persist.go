package ivfpq

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
	M       int    `json:"m"`
	NBits   int    `json:"nbits"`
	Refine  int    `json:"refine"`
	Seed    uint64 `json:"seed"`
	NextID  int64  `json:"next_id"`
	Trained bool   `json:"trained"`
}

// Save implements index.Index. Sections: "meta", "centroids" (cells),
// "codebook" (PQ centroids), "sizes" (per list), and the lists one after
// the other in "ids", "codes" and "vectors" (refine > 0), "policy"
// (float32, empty without a learned search policy; files from before it
// have none).
func (x *IVFPQ) Save(w io.Writer) error {
	return x.SaveWith(w, TypeName, layoutVersion, func(fw *format.Writer, head index.Meta) error {
		index.WriteMeta(fw, meta{Meta: head, NList: x.nlist, NProbe: int(x.nprobe.Load()), M: x.cb.M, NBits: x.cb.NBits, Refine: x.refine, Seed: x.seed,
			NextID: x.ids.Next, Trained: x.centroids != nil})
		sizes := make([]int64, len(x.lists))
		var ids []int64
		var codes []uint8
		var vecs []float32
		for i, l := range x.lists {
			sizes[i] = int64(len(l.ids))
			ids, codes, vecs = append(ids, l.ids...), append(codes, l.codes...), append(vecs, l.vecs...)
		}
		format.Put(fw, "centroids", x.centroids)
		format.Put(fw, "codebook", x.cb.Centroids)
		format.Put(fw, "sizes", sizes)
		format.Put(fw, "ids", ids)
		format.Put(fw, "codes", codes)
		format.Put(fw, "vectors", vecs)
		format.Put(fw, "policy", x.policy.Encode())
		return nil
	})
}

// load rebuilds the index from its sections; index.Loader has read the
// meta section into m.
func load(r *index.Sections, m *meta, bound *metric.Metric) (index.Index, error) {
	x, err := New(m.Dim, bound, m.NList, m.NProbe, m.M, m.NBits, m.Refine, m.Seed)
	if err != nil {
		return nil, r.Corrupt("%v", err)
	}
	cb, d := x.cb, m.Dim
	lists, book, stored := 0, 0, 0 // an untrained index has no data
	if m.Trained {
		lists, book, stored = m.NList, cb.M*cb.KSub, index.AnyRows
	}
	cents := index.Floats(r, "centroids", lists, d)
	centroids := index.Floats(r, "codebook", book, cb.DSub)
	sizes := index.Section[int64](r, "sizes", lists, 1)
	ids := index.Section[int64](r, "ids", stored, 1)
	codes := index.Section[uint8](r, "codes", len(ids), cb.CodeSize)
	refined := 0 // rows of stored vectors
	if m.Refine > 0 {
		refined = len(ids)
	}
	vecs := index.Floats(r, "vectors", refined, d)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if !m.Trained {
		return x, nil
	}
	cb.SetCentroids(append([]float32(nil), centroids...))
	x.centroids = append([]float32(nil), cents...)
	if x.quant, err = x.quantizer(x.centroids); err != nil {
		return nil, err
	}
	x.lists = make([]list, m.NList)
	x.precompute()
	cs, at := cb.CodeSize, 0
	for c, n64 := range sizes {
		n := int(n64)
		if n < 0 || at+n > len(ids) {
			return nil, r.Corrupt("list sizes exceed the stored ids")
		}
		l := &x.lists[c]
		l.ids = append([]int64(nil), ids[at:at+n]...)
		l.codes = append([]uint8(nil), codes[at*cs:(at+n)*cs]...)
		if refined > 0 {
			l.vecs = append([]float32(nil), vecs[at*d:(at+n)*d]...)
		}
		at += n
	}
	if at != len(ids) {
		return nil, r.Corrupt("list sizes cover %d of %d ids", at, len(ids))
	}
	if err := x.ids.Restore(x.each, m.NextID); err != nil {
		return nil, fmt.Errorf("ivf_pq: %w", err)
	}
	if slices.Contains(r.File().Tags(), "policy") { // files from before the policy have none
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
