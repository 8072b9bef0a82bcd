// Package lsh is locality-sensitive hashing: each of `tables` hash tables
// files every vector under a key of `bits` hash values that near vectors
// share more often than far ones, a search looks up the query's buckets
// and ranks the vectors found there exactly.
//
// The family follows the metric:
//
//   - cosine, angular, correlation, spearman (unit vectors once prepared):
//     random hyperplanes (SimHash, Charikar 2002). A bit is the sign of the
//     vector's projection on a Gaussian direction; a key is bits <= 64 signs.
//   - the l2 family (l2, euclidean, seuclidean, mahalanobis, hellinger):
//     p-stable projections (E2LSH, Datar et al. 2004). A hash value is
//     floor(<a, v>/w + u) for a Gaussian a and a uniform u; a key combines
//     bits <= 32 of them. The bucket width w is given, or estimated by Train
//     from a sample (a small multiple of its nearest-neighbour distances):
//     an l2 index without w must be trained first.
//   - jaccard over 0/1 vectors (nonzero = member): MinHash (Broder 1997)
//     with bands x rows hash functions; a band's key is its rows minima, so
//     two sets share a band with probability J^rows.
//
// Multi-probe (Lv et al., VLDB 2007): besides its own bucket, a search
// looks up the `probes`-1 buckets most likely to hold neighbours in each
// table, in the order of the query's perturbation scores (how far its
// projections lie from the boundaries the perturbation crosses), so a few
// tables reach the recall that plain LSH needs many for. MinHash probes its
// own band buckets only.
//
// Candidates are ranked exactly on the stored (prepared) vectors with the
// metric's kernels; a query whose buckets hold fewer than k vectors gets
// padding, and a filter applies to the candidates.
//
// Memory per vector: 4*dim bytes of vector, 8*tables of keys, and about
// 4*tables of bucket entries (a row number per table, plus the buckets'
// own map overhead, ~40 bytes per distinct bucket); ids as index.IDs.
// Files hold the vectors, ids and hash functions; the buckets are rebuilt
// by hashing at load (so loading costs tables*bits*dim per vector).
package lsh

import (
	"fmt"
	"sync/atomic"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// TypeName is the name of this index type in specs and files.
const TypeName = "lsh"

// Limits of the parameters.
const (
	maxTables    = 64
	maxSimBits   = 64 // a SimHash key is the bits themselves
	maxPBits     = 32 // E2LSH: two perturbation directions per bit in a 64-bit set
	maxMinRows   = 64
	maxProbes    = 4096 // per table; a larger nprobe means this
	defaultProbe = 16
)

// Spec is {"type":"lsh","dim":D,"metric":M,"tables":8,"bits":12,
// "nprobe":16,"w":0,"seed":1}, and for jaccard "bands"/"rows" (the same
// fields as tables/bits under their MinHash names); 0 or absent means the
// family's default. "probes" is accepted for nprobe.
type Spec struct {
	index.Common
	Tables int     `json:"tables"`
	Bits   int     `json:"bits"`
	Bands  int     `json:"bands"`
	Rows   int     `json:"rows"`
	NProbe int     `json:"nprobe"`
	Probes int     `json:"probes"` // nprobe under the name of the LSH literature
	W      float64 `json:"w"`
	Seed   uint64  `json:"seed"`
}

// Params are an index's hashing parameters (zero: the family's default).
type Params struct {
	Tables, Bits, Probes int
	W                    float64
	Seed                 uint64
}

// LSH is safe for concurrent use (searches share a read lock).
type LSH struct {
	index.Base
	fam     family
	tables  int
	bits    int
	probes  atomic.Int32 // default of a search; atomic, since searches read it outside the lock
	w       float32      // p-stable bucket width; 0 until given or trained
	seed    uint64
	hashes  hashes    // the hash functions (drawn from seed)
	vecs    []float32 // n*dim, prepared
	keys    []uint64  // n*tables: row r's key in table t at r*tables+t
	buckets []map[uint64][]int32
	ids     index.IDs
	scratch index.Pool[scratch]
}

// New returns an empty LSH index ranking by m.
func New(dim int, m *metric.Metric, p Params) (*LSH, error) {
	fam, err := familyOf(m)
	if err != nil {
		return nil, err
	}
	def := fam.defaults()
	if p.Tables == 0 {
		p.Tables = def.Tables
	}
	if p.Bits == 0 {
		p.Bits = def.Bits
	}
	if p.Probes == 0 {
		p.Probes = def.Probes
	}
	if p.Seed == 0 {
		p.Seed = 1
	}
	if err := fam.check(p); err != nil {
		return nil, err
	}
	x := &LSH{Base: index.NewBase(dim, m), fam: fam, tables: p.Tables, bits: p.Bits, w: float32(p.W), seed: p.Seed, ids: index.NewIDs()}
	x.probes.Store(int32(min(p.Probes, maxProbes)))
	x.hashes = drawHashes(fam, dim, p.Tables, p.Bits, p.Seed)
	x.buckets = newBuckets(p.Tables)
	return x, nil
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
			p, err := s.params(m.Kind)
			if err != nil {
				return nil, err
			}
			return New(s.Dim, m, p)
		},
		Load: index.Loader(TypeName, layoutVersion, load),
	})
}

// params maps the spec onto Params: bands/rows are tables/bits under their
// MinHash names, for jaccard only.
func (s Spec) params(k metric.Kind) (Params, error) {
	if s.NProbe != 0 && s.Probes != 0 && s.NProbe != s.Probes {
		return Params{}, fmt.Errorf("%w: probes is another name of nprobe; give nprobe or probes, not both", errs.InvalidArgument)
	}
	p := Params{Tables: s.Tables, Bits: s.Bits, Probes: max(s.NProbe, s.Probes), W: s.W, Seed: s.Seed}
	if s.Bands != 0 || s.Rows != 0 {
		if k != metric.Jaccard {
			return p, fmt.Errorf("%w: bands and rows are MinHash's parameters (metric jaccard); for %s give tables and bits", errs.InvalidArgument, k)
		}
		if (s.Tables != 0 && s.Bands != 0 && s.Tables != s.Bands) || (s.Bits != 0 && s.Rows != 0 && s.Bits != s.Rows) {
			return p, fmt.Errorf("%w: bands and tables (rows and bits) name the same MinHash parameter; give one of them", errs.InvalidArgument)
		}
		p.Tables, p.Bits = max(s.Tables, s.Bands), max(s.Bits, s.Rows)
	}
	if s.NProbe < 0 || s.Probes < 0 {
		return p, fmt.Errorf("%w: nprobe must be >= 1, got %d", errs.InvalidArgument, min(s.NProbe, s.Probes))
	}
	return p, nil
}

// Len implements index.Index.
func (x *LSH) Len() int {
	x.RLock()
	defer x.RUnlock()
	return x.ids.Len()
}

// Info implements index.Index.
func (x *LSH) Info() index.Info {
	x.RLock()
	defer x.RUnlock()
	mem := int64(cap(x.vecs))*4 + int64(cap(x.keys))*8 + x.ids.MemoryBytes() + x.hashes.memoryBytes()
	for _, b := range x.buckets {
		mem += int64(len(b)) * 40
		for _, rows := range b {
			mem += int64(cap(rows)) * 4
		}
	}
	return index.Info{Type: TypeName, Dim: x.Dim(), Metric: x.Metric().String(), Len: x.ids.Len(), MemoryBytes: mem}
}

// Close implements index.Index.
func (x *LSH) Close() error {
	return x.CloseWith(func() error {
		x.vecs, x.keys, x.buckets, x.ids = nil, nil, newBuckets(x.tables), index.NewIDs()
		return nil
	})
}

var knobs = []string{index.KnobNProbe}

// Knobs implements index.Tuner: nprobe is the buckets a search looks up per
// table (its own and nprobe-1 perturbed ones). MinHash has no knob.
func (x *LSH) Knobs() []string {
	if x.fam == minHash {
		return nil
	}
	return knobs
}

// Knob implements index.Tuner.
func (x *LSH) Knob(string) int { return int(x.probes.Load()) }

// SetKnob implements index.Tuner: the probes of later searches, saved with
// the index; values above the cap (4096 per table) mean the cap.
func (x *LSH) SetKnob(_ string, v int) error {
	x.probes.Store(int32(min(v, maxProbes)))
	return nil
}
