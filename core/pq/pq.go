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
	"sync"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/kmeans"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
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
	mu        sync.RWMutex
	dim       int
	metric    *metric.Metric
	m, nbits  int
	ksub      int // 2^nbits centroids per sub-space
	dsub      int // dim / m
	codeSize  int
	seed      uint64
	centroids []float32 // m * ksub * dsub; nil until trained
	cnorms    []float32 // |centroid|^2, m * ksub
	codes     []uint8   // n * codeSize
	ids       index.IDs
	closed    bool
}

// New returns an untrained product quantizer index.
func New(dim int, mt *metric.Metric, m, nbits int, seed uint64) (*PQ, error) {
	if mt.Class() != metric.ClassL2 && mt.Class() != metric.ClassDot {
		return nil, fmt.Errorf("%w: pq ranks by euclidean or inner-product-based metrics (l2, cosine, ip, ...), not %s", errs.Unsupported, mt.Kind)
	}
	if m < 1 || dim%m != 0 {
		return nil, fmt.Errorf("%w: m must divide dim (%d); got m = %d", errs.InvalidArgument, dim, m)
	}
	if nbits != 8 && nbits != 4 {
		return nil, fmt.Errorf("%w: nbits must be 8 or 4, got %d", errs.InvalidArgument, nbits)
	}
	if seed == 0 {
		seed = 1
	}
	return &PQ{dim: dim, metric: mt, m: m, nbits: nbits, ksub: 1 << nbits, dsub: dim / m, codeSize: (m*nbits + 7) / 8,
		seed: seed, ids: index.NewIDs()}, nil
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
		Load: load,
	})
}

// Dim implements index.Index.
func (p *PQ) Dim() int { return p.dim }

// Metric implements index.Index.
func (p *PQ) Metric() metric.Kind { return p.metric.Kind }

// Len implements index.Index.
func (p *PQ) Len() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.ids.Len()
}

// Trained implements index.Trainer.
func (p *PQ) Trained() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.centroids != nil
}

// Train implements index.Trainer: k-means with 2^nbits centroids in each
// of the m sub-spaces of the prepared vectors (at most 256 training points
// per centroid are sampled, as in faiss).
func (p *PQ) Train(ctx context.Context, vectors []float32) error {
	n, err := index.Rows(vectors, p.dim, "training vectors")
	if err != nil {
		return err
	}
	if n < p.ksub {
		return fmt.Errorf("%w: training pq with nbits=%d needs at least %d vectors (about %d or more is better), got %d", errs.InvalidArgument, p.nbits, p.ksub, 39*p.ksub, n)
	}
	if err := index.CheckFinite(vectors, p.dim, "training vectors"); err != nil {
		return err
	}
	x, err := p.metric.PrepareCopy(vectors, "training vectors")
	if err != nil {
		return err
	}
	cents := make([]float32, p.m*p.ksub*p.dsub)
	err = parallel.For(ctx, p.m, 1, func(lo, hi int) error {
		sub := make([]float32, n*p.dsub)
		for j := lo; j < hi; j++ {
			for i := range n {
				copy(sub[i*p.dsub:(i+1)*p.dsub], x[i*p.dim+j*p.dsub:i*p.dim+(j+1)*p.dsub])
			}
			res, err := kmeans.Train(ctx, sub, p.dsub, kmeans.Params{K: p.ksub, Seed: p.seed + uint64(j)})
			if err != nil {
				return err
			}
			copy(cents[j*p.ksub*p.dsub:], res.Centroids)
		}
		return nil
	})
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ids.Len() > 0 {
		return fmt.Errorf("%w: the index holds vectors; train a new index instead", errs.State)
	}
	p.setCentroids(cents)
	return nil
}

// setCentroids installs trained centroids and their squared norms.
func (p *PQ) setCentroids(c []float32) {
	p.centroids = c
	p.cnorms = make([]float32, p.m*p.ksub)
	for i := range p.cnorms {
		v := c[i*p.dsub : (i+1)*p.dsub]
		var s float32
		for _, x := range v {
			s += x * x
		}
		p.cnorms[i] = s
	}
}

func (p *PQ) notTrained(what string) error {
	return fmt.Errorf("%w: %s an untrained pq index: call train with at least %d vectors first", errs.State, what, p.ksub)
}

// Info implements index.Index.
func (p *PQ) Info() index.Info {
	p.mu.RLock()
	defer p.mu.RUnlock()
	mem := int64(cap(p.codes)) + p.ids.MemoryBytes() + int64(len(p.centroids))*4
	return index.Info{Type: TypeName, Dim: p.dim, Metric: p.metric.Kind.String(), Len: p.ids.Len(), MemoryBytes: mem}
}

// Close implements index.Index.
func (p *PQ) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.codes, p.ids = nil, index.NewIDs()
	return nil
}
