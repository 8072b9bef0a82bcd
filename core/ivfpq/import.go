package ivfpq

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// Lists are the parts of an IVF-PQ index built by another library
// (faiss's IndexIVFPQ with by_residual): coarse centroids, the PQ
// codebook (m sub-quantizers of 2^nbits centroids, each of dim/m values,
// sub-quantizer after sub-quantizer: faiss's layout and ours), and per
// list its ids and codes, the lists one after the other.
type Lists struct {
	NProbe, M, NBits int
	Centroids        []float32 // nlist rows of dim
	Codebook         []float32 // m * 2^nbits * (dim/m)
	Sizes            []int     // nlist: codes per list
	IDs              []int64   // sum(Sizes) ids, >= 0 and distinct
	Codes            []uint8   // sum(Sizes) codes of m*nbits/8 bytes (4 bits: sub-quantizer 2i in the low nibble)
}

// FromLists returns a trained index holding these lists and codebook: no
// training, no re-encoding, so ADC distances are the library's own.
func FromLists(dim int, m *metric.Metric, l Lists) (*IVFPQ, error) {
	nlist := len(l.Sizes)
	x, err := New(dim, m, nlist, max(l.NProbe, 1), l.M, l.NBits, 0, 0)
	if err != nil {
		return nil, err
	}
	cb := x.cb
	total := 0
	for c, n := range l.Sizes {
		if n < 0 || n > len(l.IDs)-total {
			return nil, fmt.Errorf("%w: ivf_pq import: list %d holds %d codes, more than the %d ids", errs.Corrupt, c, n, len(l.IDs))
		}
		total += n
	}
	if total != len(l.IDs) || len(l.Codes) != total*cb.CodeSize || len(l.Centroids) != nlist*dim || len(l.Codebook) != cb.M*cb.KSub*cb.DSub {
		return nil, fmt.Errorf("%w: ivf_pq import: lists of %d codes, %d ids, %d code bytes (%d each), %d centroid values, %d codebook values",
			errs.Corrupt, total, len(l.IDs), len(l.Codes), cb.CodeSize, len(l.Centroids), len(l.Codebook))
	}
	if err := index.CheckFinite(l.Centroids, dim, "centroids"); err != nil {
		return nil, err
	}
	if err := index.CheckFinite(l.Codebook, cb.DSub, "codebook"); err != nil {
		return nil, err
	}
	if err := index.CheckIDs(l.IDs, total); err != nil {
		return nil, err
	}
	cb.SetCentroids(append([]float32(nil), l.Codebook...))
	x.centroids = append([]float32(nil), l.Centroids...)
	if x.quant, err = x.quantizer(x.centroids); err != nil {
		return nil, err
	}
	x.lists = make([]list, nlist)
	x.precompute()
	at, next, cs := 0, int64(0), cb.CodeSize
	for c, n := range l.Sizes {
		lst := &x.lists[c]
		lst.ids = append([]int64(nil), l.IDs[at:at+n]...)
		lst.codes = append([]uint8(nil), l.Codes[at*cs:(at+n)*cs]...)
		for _, id := range lst.ids {
			next = max(next, id+1)
		}
		at += n
	}
	if err := x.ids.Restore(x.each, next); err != nil {
		return nil, fmt.Errorf("ivf_pq import: %w", err)
	}
	return x, nil
}

// Parts returns what a faiss IndexIVFPQ file holds (views of the index's
// own arrays). An index with refine > 0 keeps float32 vectors faiss's
// IndexIVFPQ has no place for: Unsupported.
func (x *IVFPQ) Parts() (l Lists, ids [][]int64, codes [][]uint8, err error) {
	if err := x.RLockOpen(); err != nil {
		return l, nil, nil, err
	}
	defer x.RUnlock()
	if x.centroids == nil {
		return l, nil, nil, x.notTrained("exporting")
	}
	if x.refine > 0 {
		return l, nil, nil, fmt.Errorf("%w: an ivf_pq index with refine=%d keeps exact vectors; faiss's IndexIVFPQ file has no place for them (export one with refine=0)", errs.Unsupported, x.refine)
	}
	l = Lists{NProbe: int(x.nprobe.Load()), M: x.cb.M, NBits: x.cb.NBits, Centroids: x.centroids, Codebook: x.cb.Centroids}
	for _, lst := range x.lists {
		ids, codes = append(ids, lst.ids), append(codes, lst.codes)
	}
	return l, ids, codes, nil
}
