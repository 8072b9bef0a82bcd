package index

// Filter restricts a search to an allow-list. Exactly one field is set.
type Filter struct {
	// IDs lists the allowed ids; order and duplicates do not matter, ids
	// not in the index are ignored.
	IDs []int64
	// Mask allows id i when Mask[i] is true; ids at or beyond len(Mask) are
	// not allowed.
	Mask []bool
}

// Allows reports whether the filter admits id; a nil filter admits all.
// Index types build a faster form of their own; this is the definition.
func (f *Filter) Allows(id int64) bool {
	if f == nil {
		return true
	}
	if f.Mask != nil {
		return id >= 0 && id < int64(len(f.Mask)) && f.Mask[id]
	}
	for _, x := range f.IDs {
		if x == id {
			return true
		}
	}
	return false
}

// Test returns a membership test for f, built once per search: nil for a
// nil filter (everything allowed), a set lookup for an id list.
func (f *Filter) Test() func(int64) bool {
	if f == nil {
		return nil
	}
	if f.Mask != nil {
		return f.Allows
	}
	set := make(map[int64]struct{}, len(f.IDs))
	for _, id := range f.IDs {
		set[id] = struct{}{}
	}
	return func(id int64) bool { _, ok := set[id]; return ok }
}
