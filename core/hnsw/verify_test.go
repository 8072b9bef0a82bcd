package hnsw

import (
	"bytes"
	"errors"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// nodeWith returns the first live node that satisfies ok.
func nodeWith(t *testing.T, h *HNSW, ok func(node uint32) bool) uint32 {
	t.Helper()
	for node := range h.used {
		if h.ids[node] >= 0 && ok(uint32(node)) {
			return uint32(node)
		}
	}
	t.Fatal("no node fits the corruption")
	return 0
}

func hasLinks(h *HNSW, l int) func(uint32) bool {
	return func(node uint32) bool {
		if int(h.levels[node]) < l {
			return false
		}
		count, _ := h.list(node, l)
		return *count > 0
	}
}

// TestVerify_CatchesEveryCorruption breaks one invariant at a time in a
// graph with upper levels and free slots: Verify must report it as
// errs.Internal, and where a file can carry the damage, loading the saved
// file must refuse it as errs.Corrupt (not panic in a later search).
func TestVerify_CatchesEveryCorruption(t *testing.T) {
	cases := []struct {
		name    string
		file    bool // the damage survives Save: Load must refuse it
		corrupt func(t *testing.T, h *HNSW)
	}{
		{"self loop", true, func(t *testing.T, h *HNSW) {
			node := nodeWith(t, h, hasLinks(h, 0))
			_, cells := h.list(node, 0)
			cells[0] = node
		}},
		{"neighbour twice", true, func(t *testing.T, h *HNSW) {
			node := nodeWith(t, h, func(n uint32) bool { c, _ := h.list(n, 0); return *c >= 2 })
			_, cells := h.list(node, 0)
			cells[1] = cells[0]
		}},
		{"link to a free slot", true, func(t *testing.T, h *HNSW) {
			node := nodeWith(t, h, hasLinks(h, 0))
			_, cells := h.list(node, 0)
			cells[0] = h.free[0]
		}},
		{"upper link to a node without that level", true, func(t *testing.T, h *HNSW) {
			node := nodeWith(t, h, hasLinks(h, 1))
			low := nodeWith(t, h, func(n uint32) bool { return h.levels[n] == 0 })
			_, cells := h.list(node, 1)
			cells[0] = low
		}},
		{"list longer than its level allows", false, func(t *testing.T, h *HNSW) {
			node := nodeWith(t, h, hasLinks(h, 0))
			count, _ := h.list(node, 0)
			*count = uint32(h.m0 + 1)
		}},
		{"free slot with neighbours", true, func(t *testing.T, h *HNSW) {
			count, cells := h.list(h.free[0], 0)
			cells[0] = nodeWith(t, h, func(uint32) bool { return true })
			*count = 1
		}},
		{"in-degree counter off", false, func(t *testing.T, h *HNSW) {
			h.indeg[nodeWith(t, h, func(uint32) bool { return true })] += 2
		}},
		{"id stored twice", true, func(t *testing.T, h *HNSW) {
			a := nodeWith(t, h, func(uint32) bool { return true })
			b := nodeWith(t, h, func(n uint32) bool { return n > a })
			h.ids[b] = h.ids[a]
		}},
		{"id at next_id", true, func(t *testing.T, h *HNSW) {
			h.ids[nodeWith(t, h, func(uint32) bool { return true })] = h.nextID
		}},
		{"id map stale", false, func(t *testing.T, h *HNSW) {
			h.ensureByID()
			h.byID[h.ids[nodeWith(t, h, func(uint32) bool { return true })]] = h.free[0]
		}},
		{"free list names a live slot", false, func(t *testing.T, h *HNSW) {
			h.free = append(h.free, nodeWith(t, h, func(uint32) bool { return true }))
		}},
		{"entry point below the top level", true, func(t *testing.T, h *HNSW) {
			_, top, _ := h.entryPoint()
			low := nodeWith(t, h, func(n uint32) bool { return int(h.levels[n]) < top })
			h.setEntry(low, int(h.levels[low]))
		}},
		{"live count off", false, func(t *testing.T, h *HNSW) { h.live++ }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := seedIndex(t, metric.L2, 3, 60, 7, Params{M: 2, EfConstruction: 16})
			if len(h.free) == 0 || h.entry.Load()>>32 < 2 {
				t.Fatal("the test graph needs free slots and upper levels")
			}
			if err := h.Verify(); err != nil {
				t.Fatalf("intact graph: %v", err)
			}
			c.corrupt(t, h)
			err := h.Verify()
			if !errors.Is(err, errs.Internal) {
				t.Fatalf("Verify after the damage: %v, want errs.Internal", err)
			}
			t.Log(err)
			if !c.file {
				return
			}
			var buf bytes.Buffer
			if err := h.Save(&buf); err != nil {
				t.Fatal(err)
			}
			if _, err := index.Load(buf.Bytes()); !errors.Is(err, errs.Corrupt) {
				t.Fatalf("loading the damaged file: %v, want errs.Corrupt", err)
			}
		})
	}
}
