package binary

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

// Vectors implements index.Reconstructor: with rerank > 0 the float32
// vectors kept for re-ranking, exactly (the metric's prepared form). With
// rerank 0 only sign codes are kept, from which no vector can be decoded:
// errs.Unsupported (presence checks, out == nil, still work).
func (b *Binary) Vectors(ids []int64, out []float32) error {
	if err := index.CheckVectors(ids, out, b.Dim()); err != nil {
		return err
	}
	if err := b.RLockOpen(); err != nil {
		return err
	}
	defer b.RUnlock()
	rows := make([]int, len(ids))
	if err := index.Locate(ids, rows, b.ids.Row); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if b.rerank == 0 {
		return fmt.Errorf("%w: a binary index with rerank=0 keeps only one bit per dimension, no vectors to give back; build it with rerank > 0 to keep them", errs.Unsupported)
	}
	d := b.Dim()
	for i, r := range rows {
		copy(out[i*d:(i+1)*d], b.vecs[r*d:(r+1)*d])
	}
	return nil
}
