package pq

import "github.com/oxvec/oxvec/core/index"

// Vectors implements index.Reconstructor: each code decoded (the
// concatenated sub-space centroids, faiss's reconstruct), in the metric's
// prepared form.
func (p *PQ) Vectors(ids []int64, out []float32) error {
	if err := index.CheckVectors(ids, out, p.Dim()); err != nil {
		return err
	}
	if err := p.RLockOpen(); err != nil {
		return err
	}
	defer p.RUnlock()
	rows := make([]int, len(ids))
	if err := index.Locate(ids, rows, p.ids.Row); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	d, cs := p.Dim(), p.cb.CodeSize
	for i, r := range rows {
		p.cb.Decode(p.codes[r*cs:(r+1)*cs], out[i*d:(i+1)*d])
	}
	return nil
}
