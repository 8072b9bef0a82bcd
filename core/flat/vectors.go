package flat

import (
	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

// Vectors implements index.Reconstructor: the stored rows, exactly (the
// metric's prepared form: unit length for cosine, ...).
func (f *Flat) Vectors(ids []int64, out []float32) error {
	if err := index.CheckVectors(ids, out, f.dim); err != nil {
		return err
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return errs.Closed
	}
	rows := make([]int32, len(ids))
	if err := index.Locate(ids, rows, func(id int64) (int32, bool) { r, ok := f.rows[id]; return r, ok }); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	d := f.dim
	for i, r := range rows {
		copy(out[i*d:(i+1)*d], f.vecs[int(r)*d:(int(r)+1)*d])
	}
	return nil
}
