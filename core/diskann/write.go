package diskann

import (
	"bytes"
	"context"
	"io"

	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/core/pq"
)

// layoutVersion is the version of the sections below (docs/format.md).
const layoutVersion = 1

// imageMeta is the "meta" section.
type imageMeta struct {
	index.Meta
	params
	LSearch   int   `json:"l_search"`
	BeamWidth int   `json:"beam_width"`
	Count     int   `json:"count"`
	NextID    int64 `json:"next_id"`
	Medoid    int64 `json:"medoid"`
	Record    int   `json:"record"`
	PerBlock  int   `json:"per_block"`
	Block     int   `json:"block"`
	// what Save writes beside the image: the delete list's size and the
	// delta (absent from images that rewrites install)
	Deleted     int   `json:"deleted,omitempty"`
	DeltaCount  int   `json:"delta_count,omitempty"`
	DeltaMedoid int64 `json:"delta_medoid,omitempty"`
	DeltaGrown  int   `json:"delta_grown,omitempty"`
}

// chunkSource fills the vectors (prepared, rows of dim) and the
// neighbour lists of nodes [lo, hi) of the image being written.
type chunkSource func(ctx context.Context, lo, hi int, vecs []float32, lists [][]uint32) error

// content is what an image holds besides its blocks.
type content struct {
	n      int
	medoid uint32
	cb     *pq.Codebook
	codes  []uint8
	ids    []int64
	nextID int64
}

// writeSections adds an image's sections: meta, codebook (m x 256 x
// dim/m float32), codes (n x m uint8), ids (n int64), then blocks,
// starting at a multiple of 4 KiB, written a chunk of blocks at a time so
// that only a chunk of vectors and lists is in memory at once.
func (x *DiskANN) writeSections(ctx context.Context, fw *format.Writer, head index.Meta, c content, src chunkSource) error {
	geo := newGeometry(x.Dim(), x.p.R)
	m := imageMeta{Meta: head, params: x.p, LSearch: x.Knob(index.KnobEf), BeamWidth: x.Knob(KnobBeamWidth), Count: c.n, NextID: c.nextID,
		Medoid: int64(c.medoid), Record: geo.record, PerBlock: geo.perBlock, Block: geo.blockSize}
	if c.n == 0 {
		m.Medoid = -1
	}
	if err := index.WriteMeta(fw, m); err != nil {
		return err
	}
	var cents []float32
	if c.cb != nil {
		cents = c.cb.Centroids
	}
	format.Put(fw, "codebook", cents)
	format.Put(fw, "codes", c.codes)
	format.Put(fw, "ids", c.ids)
	if err := fw.Align(blockAlign); err != nil {
		return err
	}
	dim := x.Dim()
	return fw.Section("blocks", func(w io.Writer) error {
		const chunkBlocks = 256
		chunk := chunkBlocks * geo.perBlock
		buf := alignedBytes(chunkBlocks * geo.blockSize)
		vecs := make([]float32, min(chunk, c.n)*dim)
		lists := make([][]uint32, min(chunk, c.n))
		for lo := 0; lo < c.n; lo += chunk {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			hi := min(c.n, lo+chunk)
			if err := src(ctx, lo, hi, vecs[:(hi-lo)*dim], lists[:hi-lo]); err != nil {
				return err
			}
			nb := geo.blocks(hi - lo)
			out := buf[:nb*geo.blockSize]
			clear(out)
			for i := range hi - lo {
				b, at := geo.where(uint32(i))
				o := int(b)*geo.blockSize + at
				geo.encode(out[o:o+geo.record], vecs[i*dim:(i+1)*dim], lists[i])
			}
			if _, err := w.Write(out); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeImage writes a complete container of c to w (a rewrite's target:
// SaveWith is Save's, under the caller's lock).
func (x *DiskANN) writeImage(ctx context.Context, w io.Writer, c content, src chunkSource) error {
	fw, err := format.NewWriter(w, TypeName)
	if err != nil {
		return err
	}
	head := index.Meta{Layout: layoutVersion, Dim: x.Dim(), Stored: x.Bound().Store(fw)}
	if err := x.writeSections(ctx, fw, head, c, src); err != nil {
		return err
	}
	return fw.Close()
}

// install writes c as the index's image - to its path through the atomic
// WriteFile, or into memory without a path - and opens it in place of the
// current one, whose file it closes.
func (x *DiskANN) install(ctx context.Context, c content, src chunkSource) error {
	var f *format.File
	if x.path != "" {
		if err := format.WriteFile(x.path, func(w io.Writer) error { return x.writeImage(ctx, w, c, src) }); err != nil {
			return err
		}
		var err error
		if f, err = format.Open(x.path); err != nil {
			return err
		}
	} else {
		var buf bytes.Buffer
		if err := x.writeImage(ctx, &buf, c, src); err != nil {
			return err
		}
		var err error
		if f, err = format.Parse(buf.Bytes()); err != nil {
			return err
		}
	}
	_, _, img, _, err := loadImage(f, x.path != "", false)
	if err != nil {
		f.Close()
		return err
	}
	if x.img != nil {
		x.img.close()
	}
	x.img = img
	x.nextID = max(x.nextID, c.nextID)
	return nil
}
