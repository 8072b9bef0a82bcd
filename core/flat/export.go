package flat

// Rows calls fn with the stored rows (n*dim values, prepared by the
// metric) and their ids, in row order, under the shared lock: for writing
// the index in another library's format (core/migrate). fn must not keep
// the slices.
func (f *Flat) Rows(fn func(vecs []float32, ids []int64) error) error {
	if err := f.RLockOpen(); err != nil {
		return err
	}
	defer f.RUnlock()
	return fn(f.vecs, f.ids)
}
