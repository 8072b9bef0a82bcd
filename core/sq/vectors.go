package sq

import "github.com/oxvec/oxvec/core/index"

// Vectors implements index.Reconstructor: each code decoded to the middle
// of its steps (faiss's reconstruct), in the metric's prepared form.
func (s *SQ) Vectors(ids []int64, out []float32) error {
	if err := index.CheckVectors(ids, out, s.Dim()); err != nil {
		return err
	}
	if err := s.RLockOpen(); err != nil {
		return err
	}
	defer s.RUnlock()
	rows := make([]int, len(ids))
	if err := index.Locate(ids, rows, s.ids.Row); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	d, cs := s.Dim(), s.codeSize
	levels := make([]uint8, d)
	for i, r := range rows {
		c := s.unpack(s.codes[r*cs:(r+1)*cs], levels)
		row := out[i*d : (i+1)*d]
		for j := range row {
			row[j] = s.b[j] + s.a[j]*float32(c[j])
		}
	}
	return nil
}
