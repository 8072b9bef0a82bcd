package hnsw

import "github.com/oxvec/oxvec/core/index"

// Verify implements index.Verifier. It holds mu exclusively, so it sees
// no insertion half done, and checks:
//   - array lengths agree with the used slots (and the int8 codes with them);
//   - the free list holds each free slot (id < 0) once and nothing else, and
//     live = used - free;
//   - live ids are unique and in [0, next_id); the id map, once built, maps
//     exactly the live ids to their nodes;
//   - every list (checkLinks): count within the level's limit, neighbours
//     existing live nodes of that level or above, no self loop, no node
//     twice; a free slot's lists are empty;
//   - level-0 in-degrees equal the number of lists naming each node;
//   - the entry point is a live node whose level is the top level, and there
//     is one exactly when a node is live.
//
// Reachability is not checked: reconnect restores it after removals and
// large adds, not after every add.
func (h *HNSW) Verify() error {
	h.Lock()
	defer h.Unlock()
	if h.Closed() {
		return nil
	}
	n := h.used
	broken := func(format string, a ...any) error { return index.Broken(TypeName, format, a...) }
	if len(h.ids) != n || len(h.vecs) != n*h.stride || len(h.level0) != n*(1+h.m0) || len(h.levels) != n || len(h.upperOff) != n ||
		len(h.indeg) < n || len(h.locks) < n {
		return broken("%d used slots, arrays of %d ids, %d values, %d level-0 cells, %d levels, %d offsets, %d in-degrees, %d locks",
			n, len(h.ids), len(h.vecs), len(h.level0), len(h.levels), len(h.upperOff), len(h.indeg), len(h.locks))
	}
	if h.quant != nil && len(h.quant.codes) != n*h.quant.stride {
		return broken("%d code bytes for %d nodes of %d", len(h.quant.codes), n, h.quant.stride)
	}
	isFree := make([]bool, n)
	for _, f := range h.free {
		if int(f) >= n || isFree[f] || h.ids[f] >= 0 {
			return broken("free list names slot %d (of %d used) twice or live", f, n)
		}
		isFree[f] = true
	}
	for node, id := range h.ids {
		if (id < 0) != isFree[node] {
			return broken("slot %d holds id %d but the free list says free=%v", node, id, isFree[node])
		}
	}
	if h.live != n-len(h.free) {
		return broken("%d live nodes counted, %d used slots with %d free", h.live, n, len(h.free))
	}
	if _, err := h.checkIDs(h.nextID, broken); err != nil {
		return err
	}
	if h.byIDOK.Load() {
		if len(h.byID) != h.live {
			return broken("id map holds %d ids, %d nodes are live", len(h.byID), h.live)
		}
		for node, id := range h.ids {
			if got, ok := h.byID[id]; id >= 0 && (!ok || int(got) != node) {
				return broken("node %d holds id %d, which maps to node %d (present %v)", node, id, got, ok)
			}
		}
	}
	for node := range n {
		if err := h.checkLists(node, broken); err != nil {
			return err
		}
	}
	if err := h.checkLinks(broken); err != nil {
		return err
	}
	indeg := make([]uint32, n)
	w := 1 + h.m0
	for node := range n {
		cells := h.level0[node*w : (node+1)*w]
		for _, x := range cells[1 : 1+cells[0]] {
			indeg[x]++
		}
	}
	for node, d := range indeg {
		if h.indeg[node] != d {
			return broken("node %d: in-degree %d kept, %d level-0 lists name it", node, h.indeg[node], d)
		}
	}
	return h.checkEntry(broken)
}

// checkLists checks node's upper offset and list counts against the
// bounds of the arrays (what validate checks on load).
func (h *HNSW) checkLists(node int, broken func(string, ...any) error) error {
	lv, off, wu := int(h.levels[node]), int(h.upperOff[node]), 1+h.p.M
	if lv > maxLevel || (lv == 0) != (off == -1) || (off != -1 && (off < 0 || off+lv*wu > len(h.upper))) {
		return broken("node %d: level %d, upper lists at %d of %d", node, lv, off, len(h.upper))
	}
	for l := 0; l <= lv; l++ {
		count, cells := h.list(uint32(node), l)
		if int(*count) > len(cells) {
			return broken("node %d level %d: %d neighbours in a list of %d", node, l, *count, len(cells))
		}
	}
	return nil
}

// checkLinks checks every list's neighbours; the bounds of lists and
// nodes must hold already (validate). A neighbour at level l must have a
// list at level l (the walk reads it), be live (a walk reports what it
// reaches), and differ from the node and from the list's other entries;
// a free slot has no neighbours. Loading runs it too (loadChecks), so a
// file can never give a graph that Verify refuses.
func (h *HNSW) checkLinks(broken func(string, ...any) error) error {
	n := h.used
	stamp := make([]uint32, n) // list number + 1 that last named each node
	list := uint32(0)
	for node := range n {
		free := h.ids[node] < 0
		for l := 0; l <= int(h.levels[node]); l++ {
			count, cells := h.list(uint32(node), l)
			if free && *count != 0 {
				return broken("free slot %d has %d neighbours at level %d", node, *count, l)
			}
			list++
			for _, x := range cells[:*count] {
				switch {
				case int(x) >= n:
					return broken("node %d level %d links to node %d of %d", node, l, x, n)
				case int(x) == node:
					return broken("node %d links to itself at level %d", node, l)
				case h.ids[x] < 0:
					return broken("node %d level %d links to free slot %d", node, l, x)
				case int(h.levels[x]) < l:
					return broken("node %d level %d links to node %d of level %d", node, l, x, h.levels[x])
				case stamp[x] == list:
					return broken("node %d level %d names node %d twice", node, l, x)
				}
				stamp[x] = list
			}
		}
	}
	return nil
}

// checkIDs checks that live ids are unique and in [0, next): with a
// bitset when next is small next to the node count, otherwise by
// building an id map, which it returns (load keeps it).
func (h *HNSW) checkIDs(next int64, broken func(string, ...any) error) (map[int64]uint32, error) {
	if next < 0 {
		return nil, broken("next_id %d", next)
	}
	for node, id := range h.ids {
		if id >= next {
			return nil, broken("node %d holds id %d, next_id is %d", node, id, next)
		}
	}
	if next <= 64*int64(h.used)+4096 {
		seen := make([]uint64, (next+63)/64)
		for _, id := range h.ids {
			if id >= 0 {
				if seen[id>>6]&(1<<(id&63)) != 0 {
					return nil, broken("id %d stored twice", id)
				}
				seen[id>>6] |= 1 << (id & 63)
			}
		}
		return nil, nil
	}
	m := make(map[int64]uint32, h.live)
	for node, id := range h.ids {
		if id >= 0 {
			if _, dup := m[id]; dup {
				return nil, broken("id %d stored twice", id)
			}
			m[id] = uint32(node)
		}
	}
	return m, nil
}

// checkEntry checks the entry point: a live node at the top level of the
// live nodes, present exactly when some node is live.
func (h *HNSW) checkEntry(broken func(string, ...any) error) error {
	ep, top, ok := h.entryPoint()
	if !ok {
		if h.live > 0 {
			return broken("no entry point for %d live nodes", h.live)
		}
		return nil
	}
	if int(ep) >= h.used || h.ids[ep] < 0 || int(h.levels[ep]) != top {
		return broken("entry point %d at level %d: not a live node of that level", ep, top)
	}
	for node, lv := range h.levels {
		if h.ids[node] >= 0 && int(lv) > top {
			return broken("node %d has level %d above the entry point's %d", node, lv, top)
		}
	}
	return nil
}

// loadChecks are the checks load adds to validate's bounds, so that what
// loads passes Verify: the lists' neighbours (checkLinks), unique ids below
// next_id, and an entry point at the top level.
func (h *HNSW) loadChecks(next int64) error {
	if err := h.checkLinks(corrupt); err != nil {
		return err
	}
	byID, err := h.checkIDs(next, corrupt)
	if err != nil {
		return err
	}
	if byID != nil { // built anyway: spare ensureByID the work
		h.byID = byID
		h.byIDOK.Store(true)
	}
	return h.checkEntry(corrupt)
}
