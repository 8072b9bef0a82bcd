package hnsw

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sync"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

type formatFile = *format.File

// layoutVersion is the version of the sections below.
const layoutVersion = 1

type meta struct {
	Layout int `json:"layout"`
	Dim    int `json:"dim"`
	Stride int `json:"stride"` // values per stored row, zero padded beyond dim
	metric.Stored
	M              int     `json:"m"`
	EfConstruction int     `json:"ef_construction"`
	EfSearch       int     `json:"ef_search"`
	Seed           int64   `json:"seed"`
	Used           int     `json:"used"`
	Live           int     `json:"live"`
	NextID         int64   `json:"next_id"`
	Entry          int64   `json:"entry"` // node, -1 when empty
	Top            int     `json:"top"`
	Quantize       string  `json:"quantize,omitempty"`
	QuantMaxAbs    float32 `json:"quant_max_abs,omitempty"`
}

// Save implements index.Index. Sections: meta (JSON), vectors (used x
// stride float32, rows zero padded from dim to stride), level0 (used x (1+2M) uint32: count then neighbours), levels
// (used uint8), upper_off (used int32, -1 for level-0 nodes), upper
// (uint32 lists of levels 1..L, 1+M each), ids (used int64, -1 for a free
// slot). Every section starts 64-byte aligned, so Load can map the file.
func (h *HNSW) Save(w io.Writer) error {
	return h.SaveWith(w, TypeName, layoutVersion, func(fw *format.Writer, head index.Meta) error {
		ep, top, ok := h.entryPoint()
		m := meta{Layout: head.Layout, Dim: head.Dim, Stride: h.stride, Stored: head.Stored, M: h.p.M, EfConstruction: h.p.EfConstruction, EfSearch: int(h.efSearch.Load()),
			Seed: h.p.Seed, Used: h.used, Live: h.live, NextID: h.nextID, Entry: -1, Top: top, Quantize: h.p.Quantize}
		if h.quant != nil {
			m.QuantMaxAbs = h.quant.maxAbs
		}
		if ok {
			m.Entry = int64(ep)
		}
		index.WriteMeta(fw, m)
		format.Put(fw, "vectors", h.vecs[:h.used*h.stride])
		format.Put(fw, "level0", h.level0[:h.used*(1+h.m0)])
		format.Put(fw, "levels", h.levels[:h.used])
		format.Put(fw, "upper_off", h.upperOff[:h.used])
		format.Put(fw, "upper", h.upper)
		format.Put(fw, "ids", h.ids[:h.used])
		if h.quant != nil {
			format.Put(fw, "codes", h.quant.codes[:h.used*h.quant.stride])
		}
		return nil
	})
}

func corrupt(format string, a ...any) error {
	return fmt.Errorf("%w: hnsw: "+format, append([]any{errs.Corrupt}, a...)...)
}

// load rebuilds an index over the sections of f, viewing them in place.
// mapped (f opened from disk, owned by the index from now on) maps the
// sections instead of reading them: the views are then read-only file
// pages, the index copies everything to the heap before its first change,
// and the checksums of the sections a search reads (vectors, level-0
// lists, codes) are left unverified unless verifyAll is set (checking
// would read every page); the structure is always validated, so a damaged
// file gives an error, never an out-of-range access.
func load(f *format.File, mapped, verifyAll bool) (index.Index, error) {
	var m meta
	r, bound, err := index.ReadMeta(f, TypeName, layoutVersion, &m)
	if err != nil {
		return nil, err
	}
	if m.Used < 0 || m.Used > math.MaxInt32 || m.Live < 0 || m.Live > m.Used || m.Top > maxLevel {
		return nil, corrupt("meta values out of range: %+v", m)
	}
	quantize := m.Quantize
	if quantize == "" { // written before the default became "int8": no codes
		quantize = "none"
	}
	h, err := New(m.Dim, bound, Params{M: m.M, EfConstruction: m.EfConstruction, EfSearch: m.EfSearch, Seed: m.Seed, Quantize: quantize})
	if err != nil {
		return nil, corrupt("parameters: %v", err)
	}
	if m.Stride != h.stride {
		return nil, corrupt("row stride %d, this build pads %d-dimensional rows to %d", m.Stride, m.Dim, h.stride)
	}
	if mapped {
		r.Map()
	}
	n, big := m.Used, !mapped || verifyAll // big: verify the large sections' checksums
	h.vecs = index.Mapped[float32](r, "vectors", n, h.stride, big)
	h.level0 = index.Mapped[uint32](r, "level0", n, 1+h.m0, big)
	h.levels = index.Mapped[uint8](r, "levels", n, 1, true)
	h.upperOff = index.Mapped[int32](r, "upper_off", n, 1, true)
	h.upper = index.Mapped[uint32](r, "upper", index.AnyRows, 1, true)
	h.ids = index.Mapped[int64](r, "ids", n, 1, true)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if err := h.validate(); err != nil {
		return nil, err
	}
	if h.quant != nil {
		h.quant.codes = index.Mapped[uint8](r, "codes", n, h.quant.stride, big)
		if err := r.Err(); err != nil {
			return nil, err
		}
		h.quant.maxAbs = m.QuantMaxAbs
	}
	live := 0
	for node := 0; node < n; node++ {
		if h.ids[node] < 0 {
			h.free = append(h.free, uint32(node))
		} else {
			live++
		}
	}
	if live != m.Live {
		return nil, corrupt("%d live ids, meta says %d", live, m.Live)
	}
	h.used, h.live, h.nextID = n, live, m.NextID
	h.locks = make([]sync.Mutex, n)
	h.countInDegrees()
	h.byID = nil // built on first use: loading stays fast
	h.byIDOK.Store(false)
	if m.Entry >= 0 {
		if m.Entry >= int64(n) || h.ids[m.Entry] < 0 || int(h.levels[m.Entry]) != m.Top {
			return nil, corrupt("entry point %d invalid", m.Entry)
		}
		h.setEntry(uint32(m.Entry), m.Top)
	} else if live > 0 {
		return nil, corrupt("no entry point for %d nodes", live)
	}
	if err := h.loadChecks(m.NextID); err != nil {
		return nil, err
	}
	if mapped {
		h.mapped = f
	} else {
		// plain load: the arrays alias the caller's buffer (or the
		// sections read for this load), which the index now owns
		// (index.Load's contract). Copying them cost 40% of a store's
		// reopen; clipping their capacity is enough to make the first
		// growth reallocate instead of writing over the next section.
		h.clip()
	}
	return h, nil
}

// mapIndex loads an index file by mapping its sections (index.Factory.Map).
func mapIndex(f *format.File, verify bool) (index.Index, error) { return load(f, true, verify) }

// countInDegrees recomputes every node's level-0 in-degree from the lists.
func (h *HNSW) countInDegrees() {
	h.indeg = make([]uint32, len(h.locks))
	w := 1 + h.m0
	for node := 0; node < h.used; node++ {
		cells := h.level0[node*w : (node+1)*w]
		for _, x := range cells[1 : 1+cells[0]] {
			h.indeg[x]++
		}
	}
}

// validate checks every list against the graph's bounds.
func (h *HNSW) validate() error {
	n := len(h.ids)
	w0, wu := 1+h.m0, 1+h.p.M
	for node := 0; node < n; node++ {
		lv := int(h.levels[node])
		if lv > maxLevel {
			return corrupt("node %d has level %d", node, lv)
		}
		off := int(h.upperOff[node])
		if (lv == 0) != (off == -1) || (off != -1 && (off < 0 || off+lv*wu > len(h.upper))) {
			return corrupt("node %d: upper lists out of bounds", node)
		}
		check := func(cells []uint32) error {
			if int(cells[0]) > len(cells)-1 {
				return corrupt("node %d: %d neighbours in a list of %d", node, cells[0], len(cells)-1)
			}
			for _, x := range cells[1 : 1+cells[0]] {
				if int(x) >= n {
					return corrupt("node %d links to node %d of %d", node, x, n)
				}
			}
			return nil
		}
		if err := check(h.level0[node*w0 : (node+1)*w0]); err != nil {
			return err
		}
		for l := 0; l < lv; l++ {
			if err := check(h.upper[off+l*wu : off+(l+1)*wu]); err != nil {
				return err
			}
		}
	}
	return nil
}

// clip limits each array viewing a load buffer to its own length.
func (h *HNSW) clip() {
	h.vecs = slices.Clip(h.vecs)
	h.level0 = slices.Clip(h.level0)
	h.levels = slices.Clip(h.levels)
	h.upperOff = slices.Clip(h.upperOff)
	h.upper = slices.Clip(h.upper)
	h.ids = slices.Clip(h.ids)
	if h.quant != nil {
		h.quant.codes = slices.Clip(h.quant.codes)
	}
}

// materialize copies arrays that view a file (or a load buffer) to the
// heap, with room to grow, and releases the mapping. The caller holds mu
// exclusively (or is the loader).
func (h *HNSW) materialize() {
	h.vecs = slices.Clip(slices.Clone(h.vecs))
	h.level0 = slices.Clone(h.level0)
	h.levels = slices.Clone(h.levels)
	h.upperOff = slices.Clone(h.upperOff)
	h.upper = slices.Clone(h.upper)
	h.ids = slices.Clone(h.ids)
	if h.quant != nil {
		h.quant.codes = slices.Clone(h.quant.codes)
	}
	if h.mapped != nil {
		h.mapped.Close()
		h.mapped = nil
	}
}

// ensureByID builds the id map, which loading skips. The caller holds mu,
// shared or exclusive; concurrent callers build it once.
func (h *HNSW) ensureByID() {
	if h.byIDOK.Load() {
		return
	}
	h.byIDMu.Lock()
	defer h.byIDMu.Unlock()
	if h.byIDOK.Load() {
		return
	}
	m := make(map[int64]uint32, h.live)
	for node, id := range h.ids[:h.used] {
		if id >= 0 {
			m[id] = uint32(node)
		}
	}
	h.byID = m
	h.byIDOK.Store(true)
}
