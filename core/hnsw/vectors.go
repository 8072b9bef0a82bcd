package hnsw

import "github.com/oxvec/oxvec/core/index"

// Vectors implements index.Reconstructor: the stored float32 rows exactly
// (the metric's prepared form; with quantize "int8" still the float32
// copy the search re-ranks on).
func (h *HNSW) Vectors(ids []int64, out []float32) error {
	if err := index.CheckVectors(ids, out, h.Dim()); err != nil {
		return err
	}
	if err := h.RLockOpen(); err != nil {
		return err
	}
	defer h.RUnlock()
	h.ensureByID()
	nodes := make([]uint32, len(ids))
	if err := index.Locate(ids, nodes, func(id int64) (uint32, bool) { n, ok := h.byID[id]; return n, ok }); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	d := h.Dim()
	for i, node := range nodes {
		copy(out[i*d:(i+1)*d], h.vec(node)[:d])
	}
	return nil
}

var knobs = []string{index.KnobEf}

// Knobs implements index.Tuner: ef, whose default is ef_search.
func (h *HNSW) Knobs() []string { return knobs }

// Knob implements index.Tuner.
func (h *HNSW) Knob(string) int { return int(h.efSearch.Load()) }

// SetKnob implements index.Tuner: the ef_search of later searches, saved
// with the index.
func (h *HNSW) SetKnob(_ string, v int) error {
	h.efSearch.Store(int64(v))
	return nil
}
