// Package sq is scalar quantization: each dimension of a vector is stored
// in 8 or 4 bits over a trained range (per dimension, or one range for all),
// as faiss's IndexScalarQuantizer QT_8bit / QT_4bit (and _uniform) do, with
// the same codec: code = int(levels * (x - min) / (max - min)) clamped,
// decoded to the middle of its step.
//
// Search is asymmetric: the query stays float32. A decoded value is
// b[j] + a[j]*c[j], so the distance to a code is a dot product of per-query
// float weights with the uint8 codes, for euclidean metrics plus the code's
// own term sum(a[j]^2 c[j]^2), which the scan kernel computes alongside
// (DotU8F32Rows4, DotU4F32Rows4) rather than the index storing it; the k
// results get their distances recomputed directly.
//
// 4-bit codes hold dimension i in the low nibble of byte i and dimension
// h+i in its high nibble (h = ceil(dim/2)), so the scan kernel widens both
// halves without shuffles; faiss packs neighbouring dimensions instead.
//
// Memory per vector: dim (8-bit) or ceil(dim/2) (4-bit) bytes of code and
// an 8-byte id (as faiss's IndexScalarQuantizer), the id only once ids stop
// being 0..n-1.
package sq

import (
	"context"
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// TypeName is the name of this index type in specs and files.
const TypeName = "sq"

// Spec is {"type":"sq","dim":D,"metric":M,"nbits":8,"range":"per_dim"}:
// nbits as pq and ivf_pq name it. "bits", its first name, is still read.
type Spec struct {
	index.Common
	NBits *int   `json:"nbits"`
	Bits  *int   `json:"bits"` // the old name of nbits
	Range string `json:"range"`
}

// nbits is the spec's nbits (or bits), 8 when neither is given.
func (s Spec) nbits() (int, error) {
	switch {
	case s.NBits != nil && s.Bits != nil && *s.NBits != *s.Bits:
		return 0, fmt.Errorf("%w: give nbits or its old name bits, not both (%d and %d)", errs.InvalidArgument, *s.NBits, *s.Bits)
	case s.NBits != nil:
		return *s.NBits, nil
	case s.Bits != nil:
		return *s.Bits, nil
	}
	return 8, nil
}

// SQ is safe for concurrent use (searches share a read lock).
type SQ struct {
	index.Base
	scratch  index.Pool[scratch]
	bits     int
	uniform  bool
	levels   float32 // 255 or 15
	codeSize int
	a, b     []float32 // decode: x = b + a*c; nil until trained
	a2       []float32 // a^2 in the weights' layout (4 bits: 2*codeSize, zero-padded): the code's own term
	vmin     []float32
	vdiff    []float32
	codes    []uint8
	ids      index.IDs
}

// New returns an untrained scalar quantizer index.
func New(dim int, m *metric.Metric, bits int, rng string) (*SQ, error) {
	if m.Class() != metric.ClassL2 && m.Class() != metric.ClassDot {
		return nil, fmt.Errorf("%w: sq ranks by euclidean or inner-product-based metrics (l2, cosine, ip, ...), not %s", errs.Unsupported, m.Kind)
	}
	s := &SQ{Base: index.NewBase(dim, m), bits: bits, ids: index.NewIDs()}
	switch bits {
	case 8:
		s.levels, s.codeSize = 255, dim
	case 4:
		s.levels, s.codeSize = 15, (dim+1)/2
	default:
		return nil, fmt.Errorf("%w: nbits must be 8 or 4, got %d", errs.InvalidArgument, bits)
	}
	switch rng {
	case "", "per_dim":
	case "uniform":
		s.uniform = true
	default:
		return nil, fmt.Errorf("%w: range must be \"per_dim\" or \"uniform\", got %q", errs.InvalidArgument, rng)
	}
	return s, nil
}

func init() {
	index.Register(TypeName, index.Factory{
		New: func(spec []byte) (index.Index, error) {
			var s Spec
			if err := index.DecodeSpec(spec, &s); err != nil {
				return nil, err
			}
			nbits, err := s.nbits()
			if err != nil {
				return nil, err
			}
			m, err := s.Check()
			if err != nil {
				return nil, err
			}
			return New(s.Dim, m, nbits, s.Range)
		},
		Load: index.Loader(TypeName, layoutVersion, load),
	})
}

// Len implements index.Index.
func (s *SQ) Len() int {
	s.RLock()
	defer s.RUnlock()
	return s.ids.Len()
}

// MinTrain implements index.Trainer: ranges of any sample.
func (s *SQ) MinTrain() int { return 1 }

// Trained implements index.Trainer.
func (s *SQ) Trained() bool {
	s.RLock()
	defer s.RUnlock()
	return s.a != nil
}

// Train implements index.Trainer: the range of each dimension (or of all
// values, uniform) over the prepared training vectors.
func (s *SQ) Train(ctx context.Context, vectors []float32) error {
	d := s.Dim()
	n, p, err := index.CheckTrain(s.Bound(), vectors, d, index.AtLeastOne)
	if err != nil {
		return err
	}
	lo, hi := make([]float32, d), make([]float32, d)
	for j := range lo {
		lo[j], hi[j] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	for i := range n {
		for j, v := range p[i*d : (i+1)*d] {
			lo[j], hi[j] = min(lo[j], v), max(hi[j], v)
		}
	}
	if s.uniform {
		l, h := lo[0], hi[0]
		for j := range lo {
			l, h = min(l, lo[j]), max(h, hi[j])
		}
		for j := range lo {
			lo[j], hi[j] = l, h
		}
	}
	diff := make([]float32, d)
	for j := range diff {
		diff[j] = hi[j] - lo[j]
	}
	s.Lock()
	defer s.Unlock()
	if s.ids.Len() > 0 {
		return fmt.Errorf("%w: the index holds vectors; train a new index instead", errs.State)
	}
	s.setRange(lo, diff)
	return nil
}

// setRange installs a trained range and the decode coefficients.
func (s *SQ) setRange(vmin, vdiff []float32) {
	s.vmin, s.vdiff = vmin, vdiff
	s.a, s.b = make([]float32, s.Dim()), make([]float32, s.Dim())
	for j := range s.a {
		s.a[j] = vdiff[j] / s.levels
		s.b[j] = vmin[j] + 0.5*s.a[j]
	}
	s.a2 = make([]float32, s.weightsLen())
	for j, a := range s.a {
		s.a2[j] = a * a
	}
}

// weightsLen is the length of a query's weights (and of a2): one per
// dimension, for 4 bits 2*codeSize (low nibbles' then high nibbles').
func (s *SQ) weightsLen() int {
	if s.bits == 4 {
		return 2 * s.codeSize
	}
	return s.Dim()
}

// encode writes the code of prepared vector v into dst (codeSize bytes).
func (s *SQ) encode(v []float32, dst []uint8) {
	if s.bits == 4 {
		clear(dst)
	}
	for j, x := range v {
		var t float32
		if s.vdiff[j] > 0 {
			t = (x - s.vmin[j]) / s.vdiff[j]
		}
		t = min(max(t, 0), 1)
		c := uint8(int(s.levels * t))
		switch {
		case s.bits == 8:
			dst[j] = c
		case j < s.codeSize: // 4 bits: dimension j in the low nibble of byte j,
			dst[j] |= c
		default: // dimension h+i in the high nibble of byte i (h = code size)
			dst[j-s.codeSize] |= c << 4
		}
	}
}

// unpack writes one code's per-dimension levels into out (dim bytes).
func (s *SQ) unpack(code []uint8, out []uint8) []uint8 {
	if s.bits == 8 {
		return code
	}
	h := s.codeSize
	for j := range out {
		if j < h {
			out[j] = code[j] & 15
		} else {
			out[j] = code[j-h] >> 4
		}
	}
	return out
}

func (s *SQ) notTrained(what string) error {
	return fmt.Errorf("%w: %s an untrained sq index: call train first (it learns each dimension's range)", errs.State, what)
}

// Info implements index.Index.
func (s *SQ) Info() index.Info {
	s.RLock()
	defer s.RUnlock()
	mem := int64(cap(s.codes)) + s.ids.MemoryBytes() + int64(len(s.a))*16
	return index.Info{Type: TypeName, Dim: s.Dim(), Metric: s.Metric().String(), Len: s.ids.Len(), MemoryBytes: mem}
}

// Close implements index.Index.
func (s *SQ) Close() error {
	return s.CloseWith(func() error {
		s.codes, s.ids = nil, index.NewIDs()
		return nil
	})
}

// scratch is one search task's buffers: 4 queries' weights, a chunk's
// scores, one unpacked code.
type scratch struct {
	w, scores []float32
	unpacked  []uint8
}
