// Package pq is product quantization (faiss's IndexPQ): a vector is split
// into m sub-vectors, each replaced by the number of its nearest centroid
// among 2^nbits learnt by k-means in that sub-space. Search is asymmetric
// (ADC): per query a table of distances from each query sub-vector to every
// centroid, then per code a sum of m table entries.
//
// Memory per vector: m*nbits/8 bytes of code (nbits 8: one byte per
// sub-quantizer; 4: two per byte), an 8-byte id and its map entry.
package pq

import (
	"context"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// TypeName is the name of this index type in specs and files.
const TypeName = "pq"

// Spec is {"type":"pq","dim":D,"metric":M,"m":8,"nbits":8,"seed":1}.
type Spec struct {
	index.Common
	M     int    `json:"m"`
	NBits int    `json:"nbits"`
	Seed  uint64 `json:"seed"`
}

// PQ is safe for concurrent use (searches share a read lock).
type PQ struct {
	index.Base
	scratch index.Pool[scratch]
	cb      *Codebook
	seed    uint64
	codes   []uint8 // n * code size
	ids     index.IDs
}

// New returns an untrained product quantizer index.
func New(dim int, mt *metric.Metric, m, nbits int, seed uint64) (*PQ, error) {
	if mt.Class() != metric.ClassL2 && mt.Class() != metric.ClassDot {
		return nil, fmt.Errorf("%w: pq ranks by euclidean or inner-product-based metrics (l2, cosine, ip, ...), not %s", errs.Unsupported, mt.Kind)
	}
	cb, err := NewCodebook(dim, m, nbits)
	if err != nil {
		return nil, err
	}
	if seed == 0 {
		seed = 1
	}
	return &PQ{Base: index.NewBase(dim, mt), cb: cb, seed: seed, ids: index.NewIDs()}, nil
}

func init() {
	index.Register(TypeName, index.Factory{
		New: func(spec []byte) (index.Index, error) {
			s := Spec{M: 8, NBits: 8}
			if err := index.DecodeSpec(spec, &s); err != nil {
				return nil, err
			}
			mt, err := s.Check()
			if err != nil {
				return nil, err
			}
			return New(s.Dim, mt, s.M, s.NBits, s.Seed)
		},
		Load: index.Loader(TypeName, layoutVersion, load),
	})
}

// Len implements index.Index.
func (p *PQ) Len() int {
	p.RLock()
	defer p.RUnlock()
	return p.ids.Len()
}

// Trained implements index.Trainer.
// MinTrain implements index.Trainer: one vector per centroid.
func (p *PQ) MinTrain() int { return p.cb.KSub }

func (p *PQ) Trained() bool {
	p.RLock()
	defer p.RUnlock()
	return p.cb.Trained()
}

// Train implements index.Trainer: k-means with 2^nbits centroids in each
// of the m sub-spaces of the prepared vectors (at most 256 training points
// per centroid are sampled, as in faiss).
func (p *PQ) Train(ctx context.Context, vectors []float32) error {
	n, x, err := index.CheckTrain(p.Bound(), vectors, p.Dim(), nil)
	if err != nil {
		return err
	}
	cb, _ := NewCodebook(p.Dim(), p.cb.M, p.cb.NBits)
	if err := cb.Train(ctx, x, n, p.seed); err != nil {
		return err
	}
	p.Lock()
	defer p.Unlock()
	if p.ids.Len() > 0 {
		return fmt.Errorf("%w: the index holds vectors; train a new index instead", errs.State)
	}
	p.cb = cb
	return nil
}

func (p *PQ) notTrained(what string) error {
	return fmt.Errorf("%w: %s an untrained pq index: call train with at least %d vectors first", errs.State, what, p.cb.KSub)
}

// Info implements index.Index.
func (p *PQ) Info() index.Info {
	p.RLock()
	defer p.RUnlock()
	mem := int64(cap(p.codes)) + p.ids.MemoryBytes() + p.cb.MemoryBytes()
	return index.Info{Type: TypeName, Dim: p.Dim(), Metric: p.Metric().String(), Len: p.ids.Len(), MemoryBytes: mem}
}

// Close implements index.Index.
func (p *PQ) Close() error {
	return p.CloseWith(func() error {
		p.codes, p.ids = nil, index.NewIDs()
		return nil
	})
}

// scratch is one search task's buffers: 4 queries' tables, a chunk's
// distances.
type scratch struct {
	luts [][256]float32
	buf  []float32
}
