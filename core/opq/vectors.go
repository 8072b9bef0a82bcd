package opq

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

// Vectors implements index.Reconstructor: the inner index's vectors (or
// reconstructions) rotated back, y R^T (R is orthogonal), in the metric's
// prepared form.
func (o *OPQ) Vectors(ids []int64, out []float32) error {
	if err := index.CheckVectors(ids, out, o.Dim()); err != nil {
		return err
	}
	r, ok := o.inner.(index.Reconstructor)
	if !ok {
		return fmt.Errorf("%w: the inner %s index of opq cannot give vectors back", errs.Unsupported, o.inner.Info().Type)
	}
	if out == nil {
		return r.Vectors(ids, nil)
	}
	o.RLock()
	rt := o.rt
	o.RUnlock()
	if rt == nil {
		// untrained: nothing was added, so the ids are reported missing
		return r.Vectors(ids, nil)
	}
	y := make([]float32, len(out))
	if err := r.Vectors(ids, y); err != nil {
		return err
	}
	// rotate(m, x) is x M for M given row by row; R^T row by row is rt
	copy(out, rotate(rt, y, o.Dim()))
	return nil
}

// Knobs implements index.Tuner: the inner index's (nprobe for an inner
// ivf_pq or ivf_flat, ef for hnsw, none for pq), which Search passes on.
func (o *OPQ) Knobs() []string { return index.KnobsOf(o.inner) }

// Knob implements index.Tuner.
func (o *OPQ) Knob(name string) int { return o.inner.(index.Tuner).Knob(name) }

// SetKnob implements index.Tuner: the inner index's default, saved with it.
func (o *OPQ) SetKnob(name string, v int) error { return o.inner.(index.Tuner).SetKnob(name, v) }
