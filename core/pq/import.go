package pq

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// FromCodes returns a trained pq index over codes encoded elsewhere
// (faiss's IndexPQ): the codebook is m sub-quantizers of 2^nbits
// centroids of dim/m values each, sub-quantizer after sub-quantizer, and
// the codes use faiss's packing (8 bits: a byte per sub-quantizer; 4
// bits: sub-quantizer 2i in the low nibble of byte i). ids is nil for
// 0..n-1.
func FromCodes(dim int, mt *metric.Metric, m, nbits int, codebook []float32, codes []uint8, ids []int64) (*PQ, error) {
	p, err := New(dim, mt, m, nbits, 0)
	if err != nil {
		return nil, err
	}
	cb := p.cb
	if len(codebook) != cb.M*cb.KSub*cb.DSub || len(codes)%cb.CodeSize != 0 {
		return nil, fmt.Errorf("%w: pq import: %d codebook values (want %d), %d code bytes (codes of %d)", errs.Corrupt, len(codebook), cb.M*cb.KSub*cb.DSub, len(codes), cb.CodeSize)
	}
	n := len(codes) / cb.CodeSize
	if err := index.CheckFinite(codebook, cb.DSub, "codebook"); err != nil {
		return nil, err
	}
	if ids == nil {
		ids = make([]int64, n)
		for i := range ids {
			ids[i] = int64(i)
		}
	}
	if err := index.CheckIDs(ids, n); err != nil {
		return nil, err
	}
	next := int64(0)
	for _, id := range ids {
		next = max(next, id+1)
	}
	cb.SetCentroids(append([]float32(nil), codebook...))
	p.codes = append([]uint8(nil), codes...)
	if err := p.ids.Restore(ids, next); err != nil {
		return nil, fmt.Errorf("pq import: %w", err)
	}
	return p, nil
}
