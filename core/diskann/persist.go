package diskann

import (
	"bytes"
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

// Save implements index.Index: a copy of the index as it is - the image
// (its blocks copied a megabyte at a time, as they lie), the delete list
// and the delta - so a loaded copy searches exactly as the original.
// Merge first for a file without a delta.
func (x *DiskANN) Save(w io.Writer) error {
	return x.SaveWith(w, TypeName, layoutVersion, func(fw *format.Writer, head index.Meta) error {
		m := x.img
		if m == nil {
			m = &image{geo: newGeometry(x.Dim(), x.p.R)}
		}
		geo := m.geo
		meta := imageMeta{Meta: head, params: x.p, LSearch: x.Knob(index.KnobEf), BeamWidth: x.Knob(KnobBeamWidth), Count: m.n, NextID: x.nextID,
			Medoid: int64(m.medoid), Record: geo.record, PerBlock: geo.perBlock, Block: geo.blockSize, Deleted: m.ndel}
		if m.n == 0 {
			meta.Medoid = -1
		}
		d := x.delta
		meta.DeltaCount, meta.DeltaMedoid, meta.DeltaGrown = d.n(), int64(d.g.medoid), d.grown
		if err := index.WriteMeta(fw, meta); err != nil {
			return err
		}
		var cents []float32
		if m.cb != nil {
			cents = m.cb.Centroids
		}
		format.Put(fw, "codebook", cents)
		format.Put(fw, "codes", m.codes)
		format.Put(fw, "ids", m.ids)
		format.Put(fw, "deleted", m.deleted)
		format.Put(fw, "delta_vectors", d.vecs)
		format.Put(fw, "delta_ids", d.ids)
		dead := make([]uint8, d.n())
		offs := make([]uint32, 0, d.n()+1)
		var adj []uint32
		for i := range d.n() {
			if d.deleted[i] {
				dead[i] = 1
			}
			offs = append(offs, uint32(len(adj)))
			adj = append(adj, d.g.adj[i]...)
		}
		offs = append(offs, uint32(len(adj)))
		format.Put(fw, "delta_dead", dead)
		format.Put(fw, "delta_offsets", offs)
		format.Put(fw, "delta_lists", adj)
		if err := fw.Align(blockAlign); err != nil {
			return err
		}
		return fw.Section("blocks", func(w io.Writer) error {
			total := int64(geo.blocks(m.n)) * int64(geo.blockSize)
			buf := make([]byte, 1<<20)
			for at := int64(0); at < total; {
				b := buf[:min(int64(len(buf)), total-at)]
				if _, err := m.src.ReadAt(b, m.base+at); err != nil {
					return err
				}
				if _, err := w.Write(b); err != nil {
					return err
				}
				at += int64(len(b))
			}
			return nil
		})
	})
}

// open is the Factory's Load (owned false: f's sections are read into
// memory, or are the caller's bytes) and Map (owned true: the index keeps
// f and reads its blocks in place; verify checks the blocks' checksum
// first, which reads them all).
func open(f *format.File, verify, owned bool) (index.Index, error) {
	m, bound, img, d, err := loadImage(f, owned, verify)
	if err != nil {
		return nil, err
	}
	x := &DiskANN{Base: index.NewBase(m.Dim, bound), p: m.params, img: img, delta: d, nextID: m.NextID}
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
func loadImage(f *format.File, owned, verify bool) (*imageMeta, *metric.Metric, *image, *delta, error) {
	m := new(imageMeta)
	r, bound, err := index.ReadMeta(f, TypeName, layoutVersion, m)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	dim, p := m.Dim, m.params
	switch {
	case bound.Class() != metric.ClassL2 && bound.Class() != metric.ClassDot:
		return nil, nil, nil, nil, r.Corrupt("metric %s", bound.Kind)
	case p.R < 2 || p.R > maxR || p.LBuild < 1 || p.LBuild > maxL || m.LSearch < 1 || m.LSearch > maxL || m.BeamWidth < 1 || m.BeamWidth > index.MaxBeamWidth:
		return nil, nil, nil, nil, r.Corrupt("r %d, l_build %d, l_search %d, beam_width %d", p.R, p.LBuild, m.LSearch, m.BeamWidth)
	case math.IsNaN(p.Alpha) || p.Alpha < 1 || p.Alpha > 4 || p.PQBytes < 1 || p.PQBytes > dim || dim%p.PQBytes != 0 || p.CacheNodes < -1 || p.BuildMemory < 0:
		return nil, nil, nil, nil, r.Corrupt("alpha %v, pq_bytes %d, cache_nodes %d", p.Alpha, p.PQBytes, p.CacheNodes)
	case m.Count > math.MaxUint32 || (m.Count > 0 && (m.Medoid < 0 || m.Medoid >= int64(m.Count))) || (m.Count == 0 && m.Medoid != -1):
		return nil, nil, nil, nil, r.Corrupt("medoid %d of %d nodes", m.Medoid, m.Count)
	}
	geo := newGeometry(dim, p.R)
	if m.Record != geo.record || m.PerBlock != geo.perBlock || m.Block != geo.blockSize {
		return nil, nil, nil, nil, r.Corrupt("record %d / %d per block / block %d, dim and r give %d / %d / %d", m.Record, m.PerBlock, m.Block, geo.record, geo.perBlock, geo.blockSize)
	}
	n := m.Count
	ids := index.Section[int64](r, "ids", n, 1)
	codes := index.Section[uint8](r, "codes", n, p.PQBytes)
	cb, _ := pq.NewCodebook(dim, p.PQBytes, 8)
	cents := index.Floats(r, "codebook", min(n, 1)*p.PQBytes*cb.KSub, cb.DSub)
	if r.Err() != nil {
		return nil, nil, nil, nil, r.Err()
	}
	if n > 0 {
		cb.SetCentroids(append([]float32(nil), cents...))
	}
	img := &image{geo: geo, n: n, medoid: uint32(max(m.Medoid, 0)), cb: cb, codes: codes, ids: ids, deleted: make([]uint64, (n+63)/64)}
	if err := img.mapIDs(m.NextID); err != nil {
		return nil, nil, nil, nil, r.Corrupt("%v", err)
	}
	if m.Deleted > 0 { // a saved delete list
		words := index.Section[uint64](r, "deleted", (n+63)/64, 1)
		if r.Err() != nil {
			return nil, nil, nil, nil, r.Err()
		}
		copy(img.deleted, words)
		for i := range uint32(n) {
			if img.isDeleted(i) {
				img.ndel++
			}
		}
		if img.ndel != m.Deleted || (n%64 != 0 && len(words) > 0 && words[len(words)-1]>>(n%64) != 0) {
			return nil, nil, nil, nil, r.Corrupt("delete list of %d nodes, meta says %d", img.ndel, m.Deleted)
		}
	}
	off, length, crc, err := f.Extent("blocks")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if length != int64(geo.blocks(n))*int64(geo.blockSize) {
		return nil, nil, nil, nil, r.Corrupt("blocks section of %d bytes, %d nodes need %d", length, n, int64(geo.blocks(n))*int64(geo.blockSize))
	}
	if owned {
		if verify {
			if err := checkBlocks(f, off, length, crc); err != nil {
				return nil, nil, nil, nil, err
			}
		}
		img.src, img.file, img.base = f, f, off
	} else {
		raw, err := f.Section("blocks", true)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		img.src = bytes.NewReader(raw)
		// in memory anyway: every record is checked now, so a loaded
		// copy never meets a damaged one later
		for i := range uint32(n) {
			b, at := geo.where(i)
			o := int(b)*geo.blockSize + at
			vec, _, err := img.decode(i, raw[o:o+geo.record])
			if err == nil {
				err = index.CheckFinite(vec, dim, "stored vectors")
			}
			if err != nil {
				return nil, nil, nil, nil, r.Corrupt("node %d: %v", i, err)
			}
		}
	}
	d, err := loadDelta(r, m, img)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if err := img.fillCache(p.CacheNodes); err != nil {
		return nil, nil, nil, nil, err
	}
	return m, bound, img, d, nil
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
