package flat

// WithRows calls fn with the index's stored rows (prepared by its metric,
// n*dim) and each row's id, under the read lock: for a searcher that scans
// them elsewhere (core/accel's GPU search). fn must not keep or change them.
func (f *Flat) WithRows(fn func(vecs []float32, ids []int64) error) error {
	if err := f.RLockOpen(); err != nil {
		return err
	}
	defer f.RUnlock()
	return fn(f.vecs, f.ids)
}
