package ivfpq

import "github.com/oxvec/oxvec/core/index"

// Vectors implements index.Reconstructor: with refine the stored float32
// vectors exactly, otherwise each vector's cell centroid plus its decoded
// residual (faiss's reconstruct), in the metric's prepared form.
func (x *IVFPQ) Vectors(ids []int64, out []float32) error {
	if err := index.CheckVectors(ids, out, x.Dim()); err != nil {
		return err
	}
	if err := x.RLockOpen(); err != nil {
		return err
	}
	defer x.RUnlock()
	slots := make([]index.Slot, len(ids))
	if err := index.Locate(ids, slots, x.ids.Finder(ids, x.each)); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	d, cs := x.Dim(), x.cb.CodeSize
	for i, s := range slots {
		l, pos, row := &x.lists[s.List], int(s.Pos), out[i*d:(i+1)*d]
		if x.refine > 0 {
			copy(row, l.vecs[pos*d:(pos+1)*d])
			continue
		}
		x.cb.Decode(l.codes[pos*cs:(pos+1)*cs], row)
		for j, c := range x.centroids[int(s.List)*d : (int(s.List)+1)*d] {
			row[j] += c
		}
	}
	return nil
}

var knobs = []string{index.KnobNProbe}

// Knobs implements index.Tuner.
func (x *IVFPQ) Knobs() []string { return knobs }

// Knob implements index.Tuner.
func (x *IVFPQ) Knob(string) int { return int(x.nprobe.Load()) }

// SetKnob implements index.Tuner: the nprobe of later searches, saved with
// the index.
func (x *IVFPQ) SetKnob(_ string, v int) error {
	x.nprobe.Store(int32(v))
	return nil
}
