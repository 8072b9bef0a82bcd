package lsh

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/kernels"
)

// family is the hash family an index uses, fixed by its metric.
type family uint8

const (
	simHash family = iota + 1 // random hyperplanes: the dot family on unit vectors
	pStable                   // E2LSH: the l2 family
	minHash                   // MinHash: jaccard on sets
)

func (f family) String() string {
	return [...]string{"", "simhash", "pstable", "minhash"}[f]
}

// familyOf chooses the family of metric m: SimHash where prepared vectors
// are unit vectors compared by angle, p-stable projections where the
// distance is euclidean on prepared vectors, MinHash for jaccard.
func familyOf(m *metric.Metric) (family, error) {
	switch m.Kind {
	case metric.Cosine, metric.Angular, metric.Correlation, metric.Spearman:
		return simHash, nil
	case metric.Jaccard:
		return minHash, nil
	}
	if m.Class() == metric.ClassL2 {
		return pStable, nil
	}
	return 0, fmt.Errorf("%w: lsh hashes cosine-like metrics (cosine, angular, correlation, spearman) with random hyperplanes, the l2 family with p-stable projections and jaccard with MinHash, not %s", errs.Unsupported, m.Kind)
}

// defaults are each family's parameters when the spec leaves them 0:
// tables x bits chosen so that with 16 probes per table the recall on
// real embeddings is high (benchmarks/RESULTS.md), and MinHash's 20 bands
// of 5 rows, whose S-curve passes 0.5 near jaccard similarity 0.55.
func (f family) defaults() Params {
	switch f {
	case simHash:
		return Params{Tables: 8, Bits: 12, Probes: defaultProbe}
	case pStable:
		return Params{Tables: 8, Bits: 8, Probes: defaultProbe}
	}
	return Params{Tables: 20, Bits: 5, Probes: 1}
}

// check validates parameters (defaults already applied).
func (f family) check(p Params) error {
	if p.Tables < 1 || p.Tables > maxTables {
		return fmt.Errorf("%w: tables (MinHash: bands) must be between 1 and %d, got %d", errs.InvalidArgument, maxTables, p.Tables)
	}
	most := map[family]int{simHash: maxSimBits, pStable: maxPBits, minHash: maxMinRows}[f]
	if p.Bits < 1 || p.Bits > most {
		return fmt.Errorf("%w: bits (MinHash: rows) must be between 1 and %d for %s, got %d", errs.InvalidArgument, most, f, p.Bits)
	}
	if p.Probes < 1 {
		return fmt.Errorf("%w: nprobe must be >= 1, got %d", errs.InvalidArgument, p.Probes)
	}
	if f == minHash && p.Probes != 1 {
		return fmt.Errorf("%w: MinHash looks up its own band buckets only; leave nprobe out for jaccard (recall grows with bands)", errs.InvalidArgument)
	}
	if w := float32(p.W); math.IsNaN(p.W) || math.IsInf(float64(w), 0) || w < 0 || (w == 0 && p.W != 0) {
		return fmt.Errorf("%w: w (the bucket width) must be a positive float32 (0: estimated by train), got %g", errs.InvalidArgument, p.W)
	}
	if f != pStable && p.W != 0 {
		return fmt.Errorf("%w: w is the bucket width of p-stable LSH, for l2 metrics only; %s has none", errs.InvalidArgument, f)
	}
	return nil
}

// hashes are an index's hash functions, drawn from its seed and saved
// with it (so a file does not depend on a random generator's stability).
type hashes struct {
	proj  []float32 // tables*bits directions of dim values (simhash, pstable)
	offs  []float32 // tables*bits offsets u in [0, 1) (pstable)
	salts []uint64  // tables*bits hash seeds (minhash)
}

func drawHashes(f family, dim, tables, bits int, seed uint64) hashes {
	r := rand.New(rand.NewPCG(seed, 0x6c7368)) // "lsh"
	m := tables * bits
	var h hashes
	switch f {
	case minHash:
		h.salts = make([]uint64, m)
		for i := range h.salts {
			h.salts[i] = r.Uint64()
		}
	default:
		h.proj = make([]float32, m*dim)
		for i := range h.proj {
			h.proj[i] = float32(r.NormFloat64())
		}
		if f == pStable {
			h.offs = make([]float32, m)
			for i := range h.offs {
				h.offs[i] = float32(r.Float64())
			}
		}
	}
	return h
}

func (h *hashes) memoryBytes() int64 {
	return int64(len(h.proj))*4 + int64(len(h.offs))*4 + int64(len(h.salts))*8
}

// mix64 is splitmix64's finaliser: a bijection of uint64 whose output bits
// all depend on every input bit, used to hash set members and hash values.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// cellKey is the part of a p-stable key that coordinate j with hash value
// h contributes; a key is the xor over its coordinates, so a probe that
// moves one coordinate changes the key by two xors.
func cellKey(j int, h int64) uint64 {
	return mix64(uint64(h) + uint64(j+1)*0x9e3779b97f4a7c15)
}

// cell is floor(v) as an int64, clamped far inside int64's range (a huge
// projection over a tiny w must not overflow the conversion).
func cell(v float32) int64 {
	const lim = 1 << 60
	f := math.Floor(float64(v))
	return int64(max(-lim, min(lim, f)))
}

// project writes the family's per-bit values of prepared vector v into
// val (tables*bits): projections for simhash, <a,v>/w + u for pstable,
// and for minhash the minimum over v's members (nonzero positions) of each
// salted member hash (math.MaxUint64 bits for the empty set).
func (x *LSH) project(ks *kernels.Set, v []float32, val []float32, mins []uint64) {
	switch x.fam {
	case minHash:
		for i := range mins {
			mins[i] = math.MaxUint64
		}
		for j, e := range v {
			if e == 0 {
				continue
			}
			for i, s := range x.hashes.salts {
				if h := mix64(s ^ uint64(j)); h < mins[i] {
					mins[i] = h
				}
			}
		}
	default:
		ks.DotRows(v, x.hashes.proj, x.Dim(), val)
		if x.fam == pStable {
			inv := 1 / x.w
			for i := range val {
				val[i] = val[i]*inv + x.hashes.offs[i]
			}
		}
	}
}

// homeKeys writes each table's key of the values project wrote.
func (x *LSH) homeKeys(val []float32, mins []uint64, keys []uint64) {
	b := x.bits
	for t := range keys {
		var key uint64
		switch x.fam {
		case simHash:
			for j, p := range val[t*b : (t+1)*b] {
				if p > 0 {
					key |= 1 << j
				}
			}
		case pStable:
			for j, p := range val[t*b : (t+1)*b] {
				key ^= cellKey(j, cell(p))
			}
		case minHash:
			key = uint64(t) * 0x9e3779b97f4a7c15
			for _, m := range mins[t*b : (t+1)*b] {
				key = mix64(key ^ m)
			}
		}
		keys[t] = key
	}
}
