package diskann

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/pq"
)

// Save implements index.Index: the image as it would be after merge - the
// live disk nodes (removed ones dropped, lists repaired) and the delta's
// vectors linked in - without changing the index or its file. The node
// blocks are read and written in file order, a chunk at a time.
func (x *DiskANN) Save(w io.Writer) error {
	return x.SaveWith(w, TypeName, layoutVersion, func(fw *format.Writer, head index.Meta) error {
		c, src, err := x.plan(context.Background(), true)
		if err != nil {
			return err
		}
		return x.writeSections(context.Background(), fw, head, c, src)
	})
}

// open is the Factory's Load (owned false: f's sections are read into
// memory, or are the caller's bytes) and Map (owned true: the index keeps
// f and reads its blocks in place; verify checks the blocks' checksum
// first, which reads them all).
func open(f *format.File, verify, owned bool) (index.Index, error) {
	m, bound, img, err := loadImage(f, owned, verify)
	if err != nil {
		return nil, err
	}
	x := &DiskANN{Base: index.NewBase(m.Dim, bound), p: m.params, delta: newDelta(m.Dim), img: img, nextID: m.NextID}
	if owned {
		x.path = f.Path()
	}
	x.lSearch.Store(int32(m.LSearch))
	x.beamWidth.Store(int32(m.BeamWidth))
	return x, nil
}

// loadImage reads and checks an image's meta and in-memory sections and
// fills the node cache; every value a search will use as an index or a
// size is checked here, and every record read later is checked by its own
// CRC-32C.
func loadImage(f *format.File, owned, verify bool) (*imageMeta, *metric.Metric, *image, error) {
	m := new(imageMeta)
	r, bound, err := index.ReadMeta(f, TypeName, layoutVersion, m)
	if err != nil {
		return nil, nil, nil, err
	}
	dim, p := m.Dim, m.params
	switch {
	case bound.Class() != metric.ClassL2 && bound.Class() != metric.ClassDot:
		return nil, nil, nil, r.Corrupt("metric %s", bound.Kind)
	case p.R < 2 || p.R > maxR || p.LBuild < 1 || p.LBuild > maxL || m.LSearch < 1 || m.LSearch > maxL || m.BeamWidth < 1 || m.BeamWidth > 64:
		return nil, nil, nil, r.Corrupt("r %d, l_build %d, l_search %d, beam_width %d", p.R, p.LBuild, m.LSearch, m.BeamWidth)
	case math.IsNaN(p.Alpha) || p.Alpha < 1 || p.Alpha > 4 || p.PQBytes < 1 || p.PQBytes > dim || dim%p.PQBytes != 0 || p.CacheNodes < -1 || p.BuildMemory < 0:
		return nil, nil, nil, r.Corrupt("alpha %v, pq_bytes %d, cache_nodes %d", p.Alpha, p.PQBytes, p.CacheNodes)
	case m.Count > math.MaxUint32 || (m.Count > 0 && (m.Medoid < 0 || m.Medoid >= int64(m.Count))) || (m.Count == 0 && m.Medoid != -1):
		return nil, nil, nil, r.Corrupt("medoid %d of %d nodes", m.Medoid, m.Count)
	}
	geo := newGeometry(dim, p.R)
	if m.Record != geo.record || m.PerBlock != geo.perBlock || m.Block != geo.blockSize {
		return nil, nil, nil, r.Corrupt("record %d / %d per block / block %d, dim and r give %d / %d / %d", m.Record, m.PerBlock, m.Block, geo.record, geo.perBlock, geo.blockSize)
	}
	n := m.Count
	ids := index.Section[int64](r, "ids", n, 1)
	codes := index.Section[uint8](r, "codes", n, p.PQBytes)
	cb, _ := pq.NewCodebook(dim, p.PQBytes, 8)
	cents := index.Floats(r, "codebook", min(n, 1)*p.PQBytes*cb.KSub, cb.DSub)
	if r.Err() != nil {
		return nil, nil, nil, r.Err()
	}
	if n > 0 {
		cb.SetCentroids(append([]float32(nil), cents...))
	}
	img := &image{geo: geo, n: n, medoid: uint32(max(m.Medoid, 0)), cb: cb, codes: codes, ids: ids, deleted: make([]uint64, (n+63)/64)}
	if err := img.mapIDs(m.NextID); err != nil {
		return nil, nil, nil, r.Corrupt("%v", err)
	}
	off, length, crc, err := f.Extent("blocks")
	if err != nil {
		return nil, nil, nil, err
	}
	if length != int64(geo.blocks(n))*int64(geo.blockSize) {
		return nil, nil, nil, r.Corrupt("blocks section of %d bytes, %d nodes need %d", length, n, int64(geo.blocks(n))*int64(geo.blockSize))
	}
	if owned {
		if verify {
			if err := checkBlocks(f, off, length, crc); err != nil {
				return nil, nil, nil, err
			}
		}
		img.src, img.file, img.base = f, f, off
	} else {
		raw, err := f.Section("blocks", true)
		if err != nil {
			return nil, nil, nil, err
		}
		img.src = bytes.NewReader(raw)
	}
	if err := img.fillCache(p.CacheNodes); err != nil {
		img.file = nil // the caller closes f on error
		return nil, nil, nil, err
	}
	return m, bound, img, nil
}

// checkBlocks computes the blocks section's CRC-32C a megabyte at a time.
func checkBlocks(f *format.File, off, length int64, want uint32) error {
	buf := make([]byte, 1<<20)
	var crc uint32
	tab := crc32.MakeTable(crc32.Castagnoli)
	for at := int64(0); at < length; {
		b := buf[:min(int64(len(buf)), length-at)]
		if _, err := f.ReadAt(b, off+at); err != nil {
			return err
		}
		crc = crc32.Update(crc, tab, b)
		at += int64(len(b))
	}
	if crc != want {
		return fmt.Errorf("%w: diskann section \"blocks\" checksum mismatch", errs.Corrupt)
	}
	return nil
}

// mapIDs checks the ids (each in [0, next_id), none twice) and builds the
// id -> node map unless every node's id is its number.
func (m *image) mapIDs(next int64) error {
	dense := true
	for i, id := range m.ids {
		if id < 0 || id >= next {
			return errID(i, id, next)
		}
		if id != int64(i) {
			dense = false
		}
	}
	if dense {
		return nil
	}
	m.where = make(map[int64]uint32, len(m.ids))
	for i, id := range m.ids {
		if _, dup := m.where[id]; dup {
			return errDup(id)
		}
		m.where[id] = uint32(i)
	}
	return nil
}

// fillCache reads the records of the nodes nearest the medoid in graph
// order (breadth first): the first steps of every search then read
// nothing. want -1 picks min(4096, n/64).
func (m *image) fillCache(want int) error {
	if want < 0 {
		want = min(4096, m.n/64)
	}
	want = min(want, m.n)
	m.cache = make(map[uint32][]byte, want)
	if want == 0 {
		return nil
	}
	block := alignedBytes(m.geo.blockSize)
	queue := []uint32{m.medoid}
	seen := map[uint32]bool{m.medoid: true}
	for len(queue) > 0 && len(m.cache) < want {
		i := queue[0]
		queue = queue[1:]
		_, nbrs, err := m.fetch(i, block)
		if err != nil {
			return err
		}
		b, at := m.geo.where(i)
		_ = b
		rec := alignedBytes(m.geo.record)
		copy(rec, block[at:at+m.geo.record])
		m.cache[i] = rec
		m.cached += int64(len(rec)) + 48
		for _, v := range nbrs {
			if !seen[v] {
				seen[v] = true
				queue = append(queue, v)
			}
		}
	}
	return nil
}
