package lsh

import (
	"context"
	"fmt"
	"io"

	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

const layoutVersion = 1

type meta struct {
	index.Meta
	Family string  `json:"family"`
	Tables int     `json:"tables"`
	Bits   int     `json:"bits"`
	NProbe int     `json:"nprobe"`
	W      float64 `json:"w"`
	Seed   uint64  `json:"seed"`
	Count  int     `json:"count"`
	NextID int64   `json:"next_id"`
}

// Save implements index.Index. Sections: "meta"; the hash functions:
// "projections" (tables*bits rows of dim float32; SimHash, p-stable),
// "offsets" (tables*bits float32 in [0, 1); p-stable), "salts"
// (tables*bits uint64; MinHash), each empty for the other families; then
// "vectors" (count*dim float32, prepared) and "ids". The buckets are not
// saved: loading hashes the vectors again.
func (x *LSH) Save(w io.Writer) error {
	return x.SaveWith(w, TypeName, layoutVersion, func(fw *format.Writer, head index.Meta) error {
		index.WriteMeta(fw, meta{Meta: head, Family: x.fam.String(), Tables: x.tables, Bits: x.bits, NProbe: int(x.probes.Load()),
			W: float64(x.w), Seed: x.seed, Count: x.ids.Len(), NextID: x.ids.Next})
		format.Put(fw, "projections", x.hashes.proj)
		format.Put(fw, "offsets", x.hashes.offs)
		format.Put(fw, "salts", x.hashes.salts)
		format.Put(fw, "vectors", x.vecs)
		format.Put(fw, "ids", x.ids.List())
		return nil
	})
}

// load rebuilds the index from its sections and files every vector in its
// buckets again; index.Loader has read the meta section into m.
func load(r *index.Sections, m *meta, bound *metric.Metric) (index.Index, error) {
	x, err := New(m.Dim, bound, Params{Tables: m.Tables, Bits: m.Bits, Probes: max(1, m.NProbe), W: m.W, Seed: max(1, m.Seed)})
	if err != nil {
		return nil, r.Corrupt("%v", err)
	}
	if m.NProbe < 1 || m.Seed == 0 || m.Family != x.fam.String() {
		return nil, r.Corrupt("nprobe %d, seed %d, family %q for metric %s", m.NProbe, m.Seed, m.Family, bound.Kind)
	}
	if x.fam == pStable && x.w == 0 && m.Count > 0 {
		return nil, r.Corrupt("%d vectors without a bucket width", m.Count)
	}
	fns, projRows, offRows, saltRows := x.tables*x.bits, 0, 0, 0
	switch x.fam {
	case simHash:
		projRows = fns
	case pStable:
		projRows, offRows = fns, fns
	case minHash:
		saltRows = fns
	}
	proj := index.Floats(r, "projections", projRows, m.Dim)
	offs := index.Floats(r, "offsets", offRows, 1)
	salts := index.Section[uint64](r, "salts", saltRows, 1)
	vecs := index.Floats(r, "vectors", m.Count, m.Dim)
	ids := index.Section[int64](r, "ids", m.Count, 1)
	if err := r.Err(); err != nil {
		return nil, err
	}
	for i, u := range offs {
		if u < 0 || u >= 1 {
			return nil, r.Corrupt("offset %d is %g, outside [0, 1)", i, u)
		}
	}
	x.hashes = hashes{proj: clone(proj), offs: clone(offs), salts: clone(salts)}
	if err := x.ids.Restore(ids, m.NextID); err != nil {
		return nil, fmt.Errorf("lsh: %w", err)
	}
	x.vecs = clone(vecs)
	x.keys = make([]uint64, m.Count*x.tables)
	if err := x.hashAll(context.Background(), x.vecs, x.keys); err != nil {
		return nil, err
	}
	x.file(0, m.Count)
	return x, nil
}

// clone copies a section out of the file's buffer (nil when empty, as a
// fresh index holds it).
func clone[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return append([]T(nil), s...)
}
