package diskann

import (
	"slices"

	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/kernels"
)

// scratch is one search's buffers, pooled per index.
type scratch struct {
	w      walk // the candidate list (PQ distances) and visited marks
	lut    [][256]float32
	blocks []byte    // beam_width blocks read in one step
	beam   []uint32  // the nodes of a step
	got    []uint32  // their blocks' numbers, deduplicated
	codes  []uint8   // codes of the neighbours met in a step
	fresh  []uint32  // and their nodes
	adc    []float32 // their PQ distances
	exact  []item    // expanded nodes with their exact ranking values
	dw     walk      // the delta's walk
}

// rank is the ranking value of a prepared query against a prepared
// vector: squared l2 for the l2 family, -<q, x> for the dot family
// (smaller is closer for both).
func rank(ks *kernels.Set, l2 bool, q, v []float32) float32 {
	if l2 {
		return ks.L2Sq(q, v)
	}
	return -ks.Dot(q, v)
}

// beam is the disk graph's search: a list of l candidates ranked by
// their PQ distance to q, of which the closest w not yet expanded are
// expanded each step by reading their records - the cached ones from
// memory, the others with one pread per block (readBlocks), all of a
// step's blocks read before any is used - and every expanded node is ranked exactly on
// the vector its record holds (sc.exact). The walk ends when every
// candidate is expanded. Each step's new neighbours are scored with one
// ADC call over their gathered codes.
func (x *DiskANN) beam(q []float32, l, bw int, sc *scratch, l2 bool, ks *kernels.Set) error {
	m := x.img
	sc.exact = sc.exact[:0]
	if m == nil || m.n == 0 {
		return nil
	}
	cb := m.cb
	if len(sc.lut) != cb.TableRows() {
		sc.lut = cb.NewTables(1)
	}
	cb.Tables(q, 1, sc.lut, l2, ks)
	if len(sc.blocks) < bw*m.geo.blockSize {
		sc.blocks = alignedBytes(bw * m.geo.blockSize)
	}
	w := &sc.w
	w.list, w.done = w.list[:0], w.done[:0]
	w.seen.reset(m.n)
	w.seen.visit(m.medoid)
	sc.fresh = append(sc.fresh[:0], m.medoid)
	x.score(sc, l, l2, ks)
	var reads, hits, expanded int64
	for {
		sc.beam = sc.beam[:0]
		for i := range w.list {
			if !w.done[i] {
				w.done[i] = true
				sc.beam = append(sc.beam, w.list[i].node)
				if len(sc.beam) == bw {
					break
				}
			}
		}
		if len(sc.beam) == 0 {
			break
		}
		// the step's reads, one per block, before any record is used
		sc.got = sc.got[:0]
		for _, v := range sc.beam {
			if _, ok := m.cache[v]; ok {
				continue
			}
			if b, _ := m.geo.where(v); !slices.Contains(sc.got, uint32(b)) {
				sc.got = append(sc.got, uint32(b))
			}
		}
		if err := m.readBlocks(sc.got, sc.blocks); err != nil {
			return err
		}
		reads += int64(len(sc.got))
		sc.fresh, sc.codes = sc.fresh[:0], sc.codes[:0]
		for _, v := range sc.beam {
			rec, ok := m.cache[v]
			if ok {
				hits++
			} else {
				b, at := m.geo.where(v)
				j := slices.Index(sc.got, uint32(b))
				rec = sc.blocks[j*m.geo.blockSize+at : j*m.geo.blockSize+at+m.geo.record]
			}
			vec, nbrs, err := m.decode(v, rec)
			if err != nil {
				return err
			}
			expanded++
			sc.exact = append(sc.exact, item{rank(ks, l2, q, vec), v})
			for _, u := range nbrs {
				if w.seen.visit(u) {
					sc.fresh = append(sc.fresh, u)
				}
			}
		}
		x.score(sc, l, l2, ks)
	}
	x.stats.blocks.Add(reads)
	x.stats.cacheHits.Add(hits)
	x.stats.expanded.Add(expanded)
	return nil
}

// score ranks the nodes of sc.fresh by their PQ codes and offers them to
// the candidate list.
func (x *DiskANN) score(sc *scratch, l int, l2 bool, ks *kernels.Set) {
	m := x.img
	cs := m.cb.CodeSize
	sc.codes = sc.codes[:0]
	for _, u := range sc.fresh {
		sc.codes = append(sc.codes, m.codes[int(u)*cs:int(u+1)*cs]...)
	}
	sc.adc = slices.Grow(sc.adc[:0], len(sc.fresh))[:len(sc.fresh)]
	if len(sc.fresh) == 0 {
		return
	}
	m.cb.Scan(sc.lut, sc.codes, sc.adc, ks)
	for i, u := range sc.fresh {
		d := sc.adc[i]
		if !l2 {
			d = -d
		}
		sc.w.insertSorted(item{d, u}, l)
	}
}

// finish turns a ranking value into the metric's distance.
func finish(mt *metric.Metric, l2 bool, v float32) float32 {
	if l2 {
		return float32(mt.FromL2(float64(v)))
	}
	return float32(mt.FromDot(float64(-v)))
}
