package lsh

import "github.com/oxvec/oxvec/core/index"

// Vectors implements index.Reconstructor: the stored vectors, exactly (the
// metric's prepared form: unit length for cosine).
func (x *LSH) Vectors(ids []int64, out []float32) error {
	if err := index.CheckVectors(ids, out, x.Dim()); err != nil {
		return err
	}
	if err := x.RLockOpen(); err != nil {
		return err
	}
	defer x.RUnlock()
	rows := make([]int, len(ids))
	if err := index.Locate(ids, rows, x.ids.Row); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	d := x.Dim()
	for i, r := range rows {
		copy(out[i*d:(i+1)*d], x.vecs[r*d:(r+1)*d])
	}
	return nil
}
