package sq

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// FromFaissCodes returns a trained index over codes faiss's
// ScalarQuantizer wrote (QT_8bit, QT_4bit and their _uniform forms): the
// decode is ours, vmin + (c + 0.5) * vdiff / levels, per dimension (one
// value of each for a uniform range). 8-bit codes are a byte per
// dimension in both; faiss packs 4-bit dimension i into nibble i%2 of byte
// i/2, ours i and i + codeSize into one byte, so 4-bit codes are
// repacked. ids is nil for 0..n-1.
func FromFaissCodes(dim int, m *metric.Metric, bits int, uniform bool, vmin, vdiff []float32, codes []uint8, ids []int64) (*SQ, error) {
	rng := "per_dim"
	if uniform {
		rng = "uniform"
	}
	s, err := New(dim, m, bits, rng)
	if err != nil {
		return nil, err
	}
	if uniform && len(vmin) == 1 && len(vdiff) == 1 {
		lo, diff := make([]float32, dim), make([]float32, dim)
		for j := range lo {
			lo[j], diff[j] = vmin[0], vdiff[0]
		}
		vmin, vdiff = lo, diff
	}
	fcs := (dim*bits + 7) / 8 // faiss's code size
	if len(vmin) != dim || len(vdiff) != dim || len(codes)%fcs != 0 {
		return nil, fmt.Errorf("%w: sq import: %d range values for dim %d, %d code bytes (codes of %d)", errs.Corrupt, len(vmin), dim, len(codes), fcs)
	}
	if err := index.CheckFinite(append(append([]float32(nil), vmin...), vdiff...), dim, "ranges"); err != nil {
		return nil, err
	}
	n := len(codes) / fcs
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
	s.setRange(vmin, vdiff)
	if bits == 8 {
		s.codes = append([]uint8(nil), codes...)
	} else {
		s.codes = make([]uint8, n*s.codeSize)
		for i := range n {
			src, dst := codes[i*fcs:(i+1)*fcs], s.codes[i*s.codeSize:(i+1)*s.codeSize]
			for j := range dim {
				c := src[j/2] >> ((j & 1) * 4) & 15
				if j < s.codeSize {
					dst[j] |= c
				} else {
					dst[j-s.codeSize] |= c << 4
				}
			}
		}
	}
	if err := s.ids.Restore(ids, next); err != nil {
		return nil, fmt.Errorf("sq import: %w", err)
	}
	return s, nil
}
