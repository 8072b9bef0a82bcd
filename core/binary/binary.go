// Package binary is binary quantization: one bit per dimension (the sign
// of the vector minus a trained per-dimension threshold, the training
// mean), searched by hamming distance with popcount, the best rerank*k
// candidates then ranked exactly on the stored float32 vectors.
//
// Memory per vector: dim/8 bytes of code (rounded up to 8-byte words) and
// an 8-byte id; plus 4*dim bytes of vector when rerank > 0. With rerank =
// 0 no vectors are kept and distances are the hamming counts.
package binary

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// TypeName is the name of this index type in specs and files.
const TypeName = "binary"

// Spec is {"type":"binary","dim":D,"metric":M,"rerank":10}.
type Spec struct {
	index.Common
	Rerank *int `json:"rerank"`
}

// Binary is safe for concurrent use (searches share a read lock).
type Binary struct {
	mu        sync.RWMutex
	scratch   index.Pool[scratch]
	dim       int
	words     int // uint64 words per code
	metric    *metric.Metric
	rerank    int
	threshold []float32 // per dimension; nil until trained
	codes     []uint64  // n*words
	vecs      []float32 // n*dim, prepared; only when rerank > 0
	ids       index.IDs
	closed    bool
}

// New returns an untrained binary index.
func New(dim int, m *metric.Metric, rerank int) (*Binary, error) {
	if m.Class() != metric.ClassL2 && m.Class() != metric.ClassDot {
		return nil, fmt.Errorf("%w: binary re-ranks by euclidean or inner-product-based metrics (l2, cosine, ip, ...), not %s", errs.Unsupported, m.Kind)
	}
	if rerank < 0 || rerank > 1000 {
		return nil, fmt.Errorf("%w: rerank must be between 0 and 1000, got %d", errs.InvalidArgument, rerank)
	}
	return &Binary{dim: dim, words: (dim + 63) / 64, metric: m, rerank: rerank, ids: index.NewIDs()}, nil
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
			r := 10
			if s.Rerank != nil {
				r = *s.Rerank
			}
			return New(s.Dim, m, r)
		},
		Load: load,
	})
}

// Dim implements index.Index.
func (b *Binary) Dim() int { return b.dim }

// Metric implements index.Index.
func (b *Binary) Metric() metric.Kind { return b.metric.Kind }

// Len implements index.Index.
func (b *Binary) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.ids.Len()
}

// Trained implements index.Trainer.
// MinTrain implements index.Trainer: thresholds are means of any sample.
func (b *Binary) MinTrain() int { return 1 }

func (b *Binary) Trained() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.threshold != nil
}

// Train implements index.Trainer: the thresholds are the per-dimension
// means of the prepared training vectors, so each bit splits the data.
func (b *Binary) Train(ctx context.Context, vectors []float32) error {
	n, p, err := index.CheckTrain(b.metric, vectors, b.dim, index.AtLeastOne)
	if err != nil {
		return err
	}
	sum := make([]float64, b.dim)
	for i := range n {
		for j, v := range p[i*b.dim : (i+1)*b.dim] {
			sum[j] += float64(v)
		}
	}
	t := make([]float32, b.dim)
	for j := range t {
		t[j] = float32(sum[j] / float64(n))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ids.Len() > 0 {
		return fmt.Errorf("%w: the index holds vectors; train a new index instead", errs.State)
	}
	b.threshold = t
	return nil
}

// encode writes the code of prepared vector v into dst (words long).
func (b *Binary) encode(v []float32, dst []uint64) {
	clear(dst)
	for j, x := range v {
		if x > b.threshold[j] {
			dst[j>>6] |= 1 << (j & 63)
		}
	}
}

func (b *Binary) notTrained(what string) error {
	return fmt.Errorf("%w: %s an untrained binary index: call train first (the thresholds are the training vectors' means)", errs.State, what)
}

// Add implements index.Index.
func (b *Binary) Add(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error {
	n, p, err := index.CheckAdd(b.metric, vectors, b.dim, ids, assigned)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errs.Closed
	}
	if b.threshold == nil {
		return b.notTrained("adding to")
	}
	if ids, err = b.ids.Assign(ids, n, assigned); err != nil {
		return err
	}
	base := b.ids.Len()
	b.codes = append(b.codes, make([]uint64, n*b.words)...)
	for i := range n {
		b.encode(p[i*b.dim:(i+1)*b.dim], b.codes[(base+i)*b.words:(base+i+1)*b.words])
	}
	if b.rerank > 0 {
		b.vecs = append(b.vecs, p...)
	}
	b.ids.Append(ids)
	return nil
}

// Remove implements index.Index: the last row moves into the hole.
func (b *Binary) Remove(ctx context.Context, ids []int64) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errs.Closed
	}
	removed := 0
	for _, id := range ids {
		r, last, ok := b.ids.Remove(id)
		if !ok {
			continue
		}
		if r != last {
			copy(b.codes[r*b.words:(r+1)*b.words], b.codes[last*b.words:(last+1)*b.words])
			if b.vecs != nil {
				copy(b.vecs[r*b.dim:(r+1)*b.dim], b.vecs[last*b.dim:(last+1)*b.dim])
			}
		}
		b.codes = b.codes[:last*b.words]
		if b.vecs != nil {
			b.vecs = b.vecs[:last*b.dim]
		}
		removed++
	}
	return removed, nil
}

// Search implements index.Index: hamming scan for rerank*k candidates
// (k when rerank is 0; never more than the index holds, see
// index.Candidates), then exact distances on the stored vectors.
func (b *Binary) Search(ctx context.Context, queries []float32, k int, p *index.SearchParams, outIDs []int64, outDist []float32) error {
	nq, pq, allow, err := index.CheckSearch(b.metric, queries, b.dim, k, p, outIDs, outDist)
	if err != nil {
		return err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return errs.Closed
	}
	if b.threshold == nil {
		return b.notTrained("searching")
	}
	w, d, n := b.words, b.dim, b.ids.Len()
	kk := index.Results(k, n)
	index.PadRows(outIDs, outDist, nq, k, kk)
	if kk == 0 {
		return nil
	}
	cand := index.Candidates(kk, b.rerank, n)
	// per task: the candidates and the hamming distances of every code
	if err := index.CheckMemory(int64(min(parallel.Workers(), (nq+15)/16)) * (int64(cand)*12 + int64(n)*2)); err != nil {
		return err
	}
	ks := kernels.Current()
	l2 := b.metric.Class() == metric.ClassL2
	return parallel.For(ctx, nq, 16, func(lo, hi int) error {
		sc := b.scratch.Get()
		defer b.scratch.Put(sc)
		sc.code, sc.cd, sc.ci, sc.ham = index.Grow(sc.code, w), index.Grow(sc.cd, cand), index.Grow(sc.ci, cand), index.Grow(sc.ham, n)
		code, cd, ci, ham := sc.code, sc.cd, sc.ci, sc.ham
		var h index.TopK
		for q := lo; q < hi; q++ {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			row := pq[q*d : (q+1)*d]
			b.encode(row, code)
			ks.HammingRows(code, b.codes, w, ham)
			// the first cand rows fill the heap; after that only a row
			// strictly below its bound can enter (rows come in increasing
			// order and ties rank by row; short codes tie a lot), and almost
			// none does, so FirstBelowU16 skips to the next one 32 counts per
			// compare. Rows, not ids, go in: the vectors are found by row.
			h.Reset(cd, ci)
			r := 0
			for ; r < len(ham) && h.Len() < cand; r++ {
				if allow == nil || allow(b.ids.ID(r)) {
					h.Push(float32(ham[r]), int64(r))
				}
			}
			for r < len(ham) {
				if r += ks.FirstBelowU16(ham[r:], uint16(h.Bound())); r == len(ham) {
					break
				}
				if allow == nil || allow(b.ids.ID(r)) {
					h.Push(float32(ham[r]), int64(r))
				}
				r++
			}
			h.Finish()
			dist, ids := outDist[q*k:q*k+kk], outIDs[q*k:q*k+kk]
			if b.rerank == 0 {
				for i := range kk {
					ids[i], dist[i] = -1, float32(math.Inf(1))
					if ci[i] >= 0 {
						ids[i], dist[i] = b.ids.ID(int(ci[i])), cd[i]
					}
				}
				continue
			}
			var top index.TopK
			top.Reset(dist, ids)
			for _, r := range ci {
				if r < 0 {
					break
				}
				v := b.vecs[r*int64(d) : (r+1)*int64(d)]
				var x float64
				if l2 {
					x = b.metric.FromL2(float64(ks.L2Sq(row, v)))
				} else {
					x = b.metric.FromDot(float64(ks.Dot(row, v)))
				}
				top.Push(float32(x), b.ids.ID(int(r)))
			}
			top.Finish()
		}
		return nil
	})
}

// Info implements index.Index.
func (b *Binary) Info() index.Info {
	b.mu.RLock()
	defer b.mu.RUnlock()
	mem := int64(cap(b.codes))*8 + int64(cap(b.vecs))*4 + b.ids.MemoryBytes() + int64(len(b.threshold))*4
	return index.Info{Type: TypeName, Dim: b.dim, Metric: b.metric.Kind.String(), Len: b.ids.Len(), MemoryBytes: mem}
}

// Close implements index.Index.
func (b *Binary) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.codes, b.vecs, b.ids = nil, nil, index.NewIDs()
	return nil
}

// scratch is one search task's buffers: the query's code, candidates,
// the hamming distances of all codes.
type scratch struct {
	code []uint64
	cd   []float32
	ci   []int64
	ham  []uint16
}
