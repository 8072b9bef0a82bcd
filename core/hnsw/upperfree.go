package hnsw

// The upper-level lists of all nodes live in one array, upper, each node's
// levels 1..L in one region of L*(1+M) values at upperOff. An add used to
// append a new region for every node above level 0, also when it reused a
// removed node's slot, so under churn (adds and deletes with bounded data,
// the server soak) upper grew by every upper-level node ever added. Now a
// removed node's region goes to a free list for its number of levels and
// the next add of a node with as many levels takes it: upper stays within
// the peak of live nodes per level. Compact still packs it densely.

// upperRegion returns the offset of a zeroed region for a node of lvl > 0
// levels: a freed one first. The caller holds mu exclusively.
func (h *HNSW) upperRegion(lvl int) int32 {
	w := lvl * (1 + h.p.M)
	if k := len(h.upperFree[lvl]); k > 0 {
		off := h.upperFree[lvl][k-1]
		h.upperFree[lvl] = h.upperFree[lvl][:k-1]
		clear(h.upper[off : int(off)+w])
		return off
	}
	off := int32(len(h.upper))
	h.upper = append(h.upper, make([]uint32, w)...)
	return off
}

// releaseUpper gives removed node's region to the free list; the free slot
// becomes a level-0 slot without upper lists (what Verify expects of a slot
// whose lists are empty). Its lists must be empty already.
func (h *HNSW) releaseUpper(node uint32) {
	lv := int(h.levels[node])
	if lv > 0 && h.upperOff[node] >= 0 {
		h.upperFree[lv] = append(h.upperFree[lv], h.upperOff[node])
	}
	h.levels[node], h.upperOff[node] = 0, -1
}
