package hnsw

import (
	"fmt"
	"math"
	"math/rand"
	"sync"
	"sync/atomic"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/kernels"
)

// TypeName is the name of this index type in specs and files.
const TypeName = "hnsw"

// maxLevel caps node levels; with M >= 2 a level above it has a chance
// below 2^-15 per node.
const maxLevel = 15

// Spec is the JSON spec of an HNSW index.
type Spec struct {
	index.Common
	M              int    `json:"m"`               // links per node above level 0 (2*M at level 0); default 16
	EfConstruction int    `json:"ef_construction"` // candidate list size while inserting; default 200
	EfSearch       int    `json:"ef_search"`       // default candidate list size of a search; default 100
	MaxElements    int    `json:"max_elements"`    // initial capacity; grows on demand
	Seed           int64  `json:"seed"`            // for the random node levels; default 1
	Quantize       string `json:"quantize"`        // "int8" (walk on one-byte codes, re-rank on float32), "none", or "" for the default (see Params)
}

// Params are an HNSW index's fixed parameters.
type Params struct {
	M, EfConstruction, EfSearch, MaxElements int
	Seed                                     int64
	// Quantize is "int8" (walk on one-byte codes, re-rank on float32),
	// "none" (walk on float32), or "" for the default: "int8" where the
	// metric allows it and rows are at least quantizeFromDim wide, else
	// "none". New resolves "" so Params() and saved files say which.
	Quantize string
}

// quantizeFromDim is the narrowest row the default walks on codes: below
// it a float32 row is a few cache lines, codes are padded to 64 bytes, and
// the re-rank on float32 costs about what the codes save.
const quantizeFromDim = 64

// HNSW is the index. Safe for concurrent use: searches and inserts share
// the structure lock (inserts synchronise per node); growth, removal and
// compaction take it exclusively.
type HNSW struct {
	index.Base
	stride int // values per stored row: dim rounded up to kernels.GatherAlign, zero padded
	p      Params
	m0     int     // links at level 0
	mult   float64 // level multiplier 1/ln(M)
	rng    *rand.Rand
	// efSearch is the default ef of a search: p.EfSearch until SetKnob
	// changes it; atomic, since searches read it outside mu
	efSearch atomic.Int64

	// per node (internal id), capacity cap(ids):
	vecs     []float32    // stride values per node, prepared by the metric
	level0   []uint32     // 1+m0 values: count, then neighbours
	levels   []uint8      // top level of the node
	upperOff []int32      // offset of the node's upper lists in upper, or -1
	ids      []int64      // external id, or -1 for a free slot
	indeg    []uint32     // level-0 lists naming the node (atomic)
	locks    []sync.Mutex // serialises writes to the node's lists
	upper    []uint32     // levels 1..L, 1+m values each

	used   int              // slots in use or freed (the high-water mark)
	free   []uint32         // freed slots, reused by adds
	live   int              // nodes that hold a vector
	byID   map[int64]uint32 // after a load, built on first need (ensureByID)
	byIDOK atomic.Bool      // byID is complete
	byIDMu sync.Mutex
	nextID int64

	// upper-list regions of removed nodes, by their number of levels,
	// reused by adds of a node with as many (upperfree.go)
	upperFree [maxLevel + 1][]int32

	// entry is (top level + 1) << 32 | entry node, 0 when empty
	entry atomic.Uint64
	epMu  sync.Mutex

	// pending holds the nodes an Add has reserved and not linked yet:
	// between reserve (exclusive lock) and the insertion (shared lock) a
	// removal may run, and must neither make such a node the entry point
	// (searches would start at a node without lists) nor free its slot
	pendMu  sync.Mutex
	pending map[uint32]bool
	linked  *sync.Cond // on pendMu, broadcast when pending empties (lockNoPending)

	orphans    orphanList
	sinceCheck atomic.Int64 // nodes inserted since the last reachability check
	pool       scratchPool
	scanBelow  int        // filters admitting at most this many nodes are scanned exactly
	mapped     formatFile // the file whose mapped sections the arrays view when loaded with mmap; nil otherwise
	quant      *sq8       // one-byte codes to walk on (quantize \"int8\"), or nil
}

func init() {
	index.Register(TypeName, index.Factory{
		New: func(spec []byte) (index.Index, error) {
			var s Spec
			if err := index.DecodeSpec(spec, &s); err != nil {
				return nil, err
			}
			m, err := s.Check()
			if err != nil {
				return nil, err
			}
			return New(s.Dim, m, Params{M: s.M, EfConstruction: s.EfConstruction, EfSearch: s.EfSearch, MaxElements: s.MaxElements, Seed: s.Seed, Quantize: s.Quantize})
		},
		Load: func(f formatFile) (index.Index, error) { return load(f, false, false) },
		Map:  mapIndex,
	})
}

// New returns an empty index. Zero parameters take their defaults.
func New(dim int, m *metric.Metric, p Params) (*HNSW, error) {
	if dim < 1 || dim > index.MaxDim || m.Dim != dim {
		return nil, fmt.Errorf("%w: dim must be between 1 and %d, got %d", errs.InvalidArgument, index.MaxDim, dim)
	}
	if m.Kind == metric.HammingBits {
		return nil, fmt.Errorf("%w: hnsw stores float32 vectors; hamming_bits needs packed bits", errs.Unsupported)
	}
	if p.M == 0 {
		p.M = 16
	}
	if p.EfConstruction == 0 {
		p.EfConstruction = 200
	}
	if p.EfSearch == 0 {
		p.EfSearch = 100
	}
	if p.Seed == 0 {
		p.Seed = 1
	}
	switch {
	case p.M < 2 || p.M > 512:
		return nil, fmt.Errorf("%w: m must be between 2 and 512, got %d", errs.InvalidArgument, p.M)
	case p.EfConstruction < 1 || p.EfSearch < 1:
		return nil, fmt.Errorf("%w: ef_construction and ef_search must be >= 1", errs.InvalidArgument)
	case p.MaxElements < 0 || p.MaxElements > math.MaxInt32:
		return nil, fmt.Errorf("%w: max_elements must be between 0 and %d", errs.InvalidArgument, math.MaxInt32)
	case p.Quantize != "" && p.Quantize != "int8" && p.Quantize != "none":
		return nil, fmt.Errorf("%w: quantize must be \"int8\", \"none\" or empty (the default), got %q", errs.InvalidArgument, p.Quantize)
	}
	if p.Quantize == "" {
		p.Quantize = "none"
		if dim >= quantizeFromDim && quantizable(m) == nil {
			p.Quantize = "int8"
		}
	}
	if p.Quantize == "int8" {
		if err := quantizable(m); err != nil {
			return nil, err
		}
	}
	h := &HNSW{
		Base: index.NewBase(dim, m), stride: (dim + kernels.GatherAlign - 1) / kernels.GatherAlign * kernels.GatherAlign,
		p: p, m0: 2 * p.M, mult: 1 / math.Log(float64(p.M)),
		rng: rand.New(rand.NewSource(p.Seed)), byID: map[int64]uint32{},
	}
	h.byIDOK.Store(true)
	h.efSearch.Store(int64(p.EfSearch))
	h.scanBelow = exactScanBelow
	if p.Quantize == "int8" {
		h.quant = newSQ8(dim)
	}
	h.grow(p.MaxElements)
	return h, nil
}

// capacity is how many nodes every per-node array has room for.
func (h *HNSW) capacity() int {
	c := min(cap(h.ids), cap(h.vecs)/h.stride, cap(h.level0)/(1+h.m0), cap(h.levels), cap(h.upperOff), len(h.locks), len(h.indeg))
	if h.quant != nil {
		c = min(c, cap(h.quant.codes)/h.quant.stride)
	}
	return c
}

// grow makes room for at least n nodes. Callers hold mu exclusively.
func (h *HNSW) grow(n int) {
	c := h.capacity()
	if n <= c {
		return
	}
	n = max(n, 2*c, 1024)
	grown := func(a []uint32, per int) []uint32 {
		b := make([]uint32, len(a), n*per)
		copy(b, a)
		return b
	}
	vecs := make([]float32, len(h.vecs), n*h.stride)
	copy(vecs, h.vecs)
	h.vecs = vecs
	h.level0 = grown(h.level0, 1+h.m0)
	h.levels = append(make([]uint8, 0, n), h.levels...)
	h.upperOff = append(make([]int32, 0, n), h.upperOff...)
	h.ids = append(make([]int64, 0, n), h.ids...)
	indeg := make([]uint32, n)
	copy(indeg, h.indeg)
	h.indeg = indeg
	if h.quant != nil {
		codes := make([]uint8, len(h.quant.codes), n*h.quant.stride)
		copy(codes, h.quant.codes)
		h.quant.codes = codes
	}
	// sync.Mutex must not be copied once used; no lock is held here (mu is
	// held exclusively), so fresh zero mutexes are equivalent
	h.locks = make([]sync.Mutex, n)
}

// Len implements index.Index.
func (h *HNSW) Len() int {
	h.RLock()
	defer h.RUnlock()
	return h.live
}

// Params returns the index's parameters.
func (h *HNSW) Params() Params { return h.p }

// Info implements index.Index.
func (h *HNSW) Info() index.Info {
	h.RLock()
	defer h.RUnlock()
	return index.Info{Type: TypeName, Dim: h.Dim(), Metric: h.Metric().String(), Len: h.live, MemoryBytes: h.memoryBytes(), Quantize: h.p.Quantize}
}

func (h *HNSW) memoryBytes() int64 {
	if h.mapped != nil {
		// only what the heap holds; the file's pages are the kernel's
		return int64(len(h.byID))*24 + int64(cap(h.locks))*8
	}
	return int64(cap(h.vecs))*4 + int64(cap(h.level0))*4 + int64(cap(h.levels)) + int64(cap(h.upperOff))*4 +
		int64(cap(h.ids))*8 + int64(len(h.indeg))*4 + int64(cap(h.locks))*8 + int64(cap(h.upper))*4 + int64(len(h.byID))*24 +
		h.quant.bytes()
}

// Close implements index.Index.
func (h *HNSW) Close() error {
	return h.CloseWith(func() error {
		h.vecs, h.level0, h.levels, h.upperOff, h.ids, h.indeg, h.locks, h.upper, h.byID = nil, nil, nil, nil, nil, nil, nil, nil, nil
		if h.mapped != nil {
			err := h.mapped.Close()
			h.mapped = nil
			return err
		}
		return nil
	})
}

// vec is node i's stored row, padded to stride.
func (h *HNSW) vec(i uint32) []float32 {
	return h.vecs[int(i)*h.stride : int(i+1)*h.stride]
}
