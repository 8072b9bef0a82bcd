package flat

import "github.com/oxvec/oxvec/core/index"

// Vectors implements index.Reconstructor: the stored rows, exactly (the
// metric's prepared form: unit length for cosine, ...).
func (f *Flat) Vectors(ids []int64, out []float32) error {
	if err := index.CheckVectors(ids, out, f.Dim()); err != nil {
		return err
	}
	if err := f.RLockOpen(); err != nil {
		return err
	}
	defer f.RUnlock()
	rows := make([]int32, len(ids))
	if err := index.Locate(ids, rows, func(id int64) (int32, bool) { r, ok := f.rows[id]; return r, ok }); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	d := f.Dim()
	for i, r := range rows {
		copy(out[i*d:(i+1)*d], f.vecs[int(r)*d:(int(r)+1)*d])
	}
	return nil
}
