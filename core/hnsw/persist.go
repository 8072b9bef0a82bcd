package hnsw

import (
	"encoding/json"
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
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return errs.Closed
	}
	fw, err := format.NewWriter(w, TypeName)
	if err != nil {
		return err
	}
	stored := h.metric.Store(fw)
	ep, top, ok := h.entryPoint()
	m := meta{Layout: layoutVersion, Dim: h.dim, Stride: h.stride, Stored: stored, M: h.p.M, EfConstruction: h.p.EfConstruction, EfSearch: int(h.efSearch.Load()),
		Seed: h.p.Seed, Used: h.used, Live: h.live, NextID: h.nextID, Entry: -1, Top: top, Quantize: h.p.Quantize}
	if h.quant != nil {
		m.QuantMaxAbs = h.quant.maxAbs
	}
	if ok {
		m.Entry = int64(ep)
	}
	js, _ := json.Marshal(m)
	fw.Bytes("meta", js)
	fw.Bytes("vectors", format.AsBytes(h.vecs[:h.used*h.stride]))
	fw.Bytes("level0", format.AsBytes(h.level0[:h.used*(1+h.m0)]))
	fw.Bytes("levels", h.levels[:h.used])
	fw.Bytes("upper_off", format.AsBytes(h.upperOff[:h.used]))
	fw.Bytes("upper", format.AsBytes(h.upper))
	fw.Bytes("ids", format.AsBytes(h.ids[:h.used]))
	if h.quant != nil {
		fw.Bytes("codes", h.quant.codes[:h.used*h.quant.stride])
	}
	return fw.Close()
}

func corrupt(format string, a ...any) error {
	return fmt.Errorf("%w: hnsw: "+format, append([]any{errs.Corrupt}, a...)...)
}

// load rebuilds an index over the sections of f, viewing them in place.
// mapped (f opened from disk) maps the sections instead of reading them:
// the views are then read-only file pages, the index owns f, copies
// everything to the heap before its first change, and big sections'
// checksums are left unverified unless verifyAll is set (checking would
// read every page); the structure is always validated, so a damaged file
// gives an error, never an out-of-range access.
func load(f *format.File, mapped, verifyAll bool) (index.Index, error) {
	verify := !mapped || verifyAll
	raw, err := f.Section("meta", true)
	if err != nil {
		return nil, err
	}
	var m meta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, corrupt("meta section: %v", err)
	}
	if m.Layout != layoutVersion {
		return nil, fmt.Errorf("%w: hnsw layout version %d, this build reads %d", errs.Unsupported, m.Layout, layoutVersion)
	}
	if m.Dim < 1 || m.Dim > index.MaxDim || m.Used < 0 || m.Used > math.MaxInt32 || m.Live < 0 || m.Live > m.Used || m.Top > maxLevel {
		return nil, corrupt("meta values out of range: %+v", m)
	}
	bound, err := metric.Restore(f, m.Stored, m.Dim)
	if err != nil {
		return nil, err
	}
	h, err := New(m.Dim, bound, Params{M: m.M, EfConstruction: m.EfConstruction, EfSearch: m.EfSearch, Seed: m.Seed, Quantize: m.Quantize})
	if err != nil {
		return nil, corrupt("parameters: %v", err)
	}
	section := func(tag string, big bool) ([]byte, error) {
		if mapped {
			return f.Map(tag, verify || !big)
		}
		return f.Section(tag, verify || !big)
	}
	var bv, b0, bl, bo, bu, bi []byte
	for _, s := range []struct {
		tag string
		big bool
		dst *[]byte
	}{{"vectors", true, &bv}, {"level0", true, &b0}, {"levels", false, &bl}, {"upper_off", false, &bo}, {"upper", false, &bu}, {"ids", false, &bi}} {
		if *s.dst, err = section(s.tag, s.big); err != nil {
			return nil, err
		}
	}
	if h.vecs, err = format.View[float32](bv); err != nil {
		return nil, err
	}
	if h.level0, err = format.View[uint32](b0); err != nil {
		return nil, err
	}
	if h.upperOff, err = format.View[int32](bo); err != nil {
		return nil, err
	}
	if h.upper, err = format.View[uint32](bu); err != nil {
		return nil, err
	}
	if h.ids, err = format.View[int64](bi); err != nil {
		return nil, err
	}
	h.levels = bl
	n := m.Used
	if m.Stride != h.stride {
		return nil, corrupt("row stride %d, this build pads %d-dimensional rows to %d", m.Stride, m.Dim, h.stride)
	}
	if len(h.vecs) != n*h.stride || len(h.level0) != n*(1+h.m0) || len(h.levels) != n || len(h.upperOff) != n || len(h.ids) != n {
		return nil, corrupt("section sizes do not match %d nodes of dim %d", n, m.Dim)
	}
	if err := h.validate(); err != nil {
		return nil, err
	}
	if h.quant != nil {
		codes, err := section("codes", true)
		if err != nil {
			return nil, err
		}
		if len(codes) != n*h.quant.stride {
			return nil, corrupt("codes section holds %d bytes, need %d", len(codes), n*h.quant.stride)
		}
		h.quant.codes, h.quant.maxAbs = codes, m.QuantMaxAbs
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
