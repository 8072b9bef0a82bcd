package ivf

import "github.com/oxvec/oxvec/core/index"

// Vectors implements index.Reconstructor: the stored vectors exactly (the
// metric's prepared form). While the ids are 0..n-1 no id map is kept, and
// a call scans the lists' ids once.
func (x *IVF) Vectors(ids []int64, out []float32) error {
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
	d := x.Dim()
	for i, s := range slots {
		copy(out[i*d:(i+1)*d], x.lists[s.List].vecs[int(s.Pos)*d:(int(s.Pos)+1)*d])
	}
	return nil
}

var knobs = []string{index.KnobNProbe}

// Knobs implements index.Tuner.
func (x *IVF) Knobs() []string { return knobs }

// Knob implements index.Tuner.
func (x *IVF) Knob(string) int { return int(x.nprobe.Load()) }

// SetKnob implements index.Tuner: the nprobe of later searches, saved with
// the index.
func (x *IVF) SetKnob(_ string, v int) error {
	x.nprobe.Store(int32(v))
	return nil
}
