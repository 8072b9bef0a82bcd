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
	index.Base
	scratch   index.Pool[scratch]
	words     int // uint64 words per code
	rerank    int
	threshold []float32 // per dimension; nil until trained
	codes     []uint64  // n*words
	vecs      []float32 // n*dim, prepared; only when rerank > 0
	ids       index.IDs
}

// New returns an untrained binary index.
func New(dim int, m *metric.Metric, rerank int) (*Binary, error) {
	if m.Class() != metric.ClassL2 && m.Class() != metric.ClassDot {
		return nil, fmt.Errorf("%w: binary re-ranks by euclidean or inner-product-based metrics (l2, cosine, ip, ...), not %s", errs.Unsupported, m.Kind)
	}
	if rerank < 0 || rerank > 1000 {
		return nil, fmt.Errorf("%w: rerank must be between 0 and 1000, got %d", errs.InvalidArgument, rerank)
	}
	return &Binary{Base: index.NewBase(dim, m), words: (dim + 63) / 64, rerank: rerank, ids: index.NewIDs()}, nil
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
		Load: index.Loader(TypeName, layoutVersion, load),
	})
}

// Len implements index.Index.
func (b *Binary) Len() int {
	b.RLock()
	defer b.RUnlock()
	return b.ids.Len()
}

// MinTrain implements index.Trainer: thresholds are means of any sample.
func (b *Binary) MinTrain() int { return 1 }

// Trained implements index.Trainer.
func (b *Binary) Trained() bool {
	b.RLock()
	defer b.RUnlock()
	return b.threshold != nil
}

// Train implements index.Trainer: the thresholds are the per-dimension
// means of the prepared training vectors, so each bit splits the data.
func (b *Binary) Train(ctx context.Context, vectors []float32) error {
	d := b.Dim()
	n, p, err := index.CheckTrain(b.Bound(), vectors, d, index.AtLeastOne)
	if err != nil {
		return err
	}
	sum := make([]float64, d)
	for i := range n {
		for j, v := range p[i*d : (i+1)*d] {
			sum[j] += float64(v)
		}
	}
	t := make([]float32, d)
	for j := range t {
		t[j] = float32(sum[j] / float64(n))
	}
	b.Lock()
	defer b.Unlock()
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
	d := b.Dim()
	n, p, err := index.CheckAdd(b.Bound(), vectors, d, ids, assigned)
	if err != nil {
		return err
	}
	if err := b.LockOpen(); err != nil {
		return err
	}
	defer b.Unlock()
	if b.threshold == nil {
		return b.notTrained("adding to")
	}
	if ids, err = b.ids.Assign(ids, n, assigned); err != nil {
		return err
	}
	base := b.ids.Len()
	b.codes = append(b.codes, make([]uint64, n*b.words)...)
	for i := range n {
		b.encode(p[i*d:(i+1)*d], b.codes[(base+i)*b.words:(base+i+1)*b.words])
	}
	if b.rerank > 0 {
		b.vecs = append(b.vecs, p...)
	}
	b.ids.Append(ids)
	return nil
}

// Remove implements index.Index: the last row moves into the hole.
func (b *Binary) Remove(ctx context.Context, ids []int64) (int, error) {
	if err := b.LockOpen(); err != nil {
		return 0, err
	}
	defer b.Unlock()
	removed, d := 0, b.Dim()
	for _, id := range ids {
		r, last, ok := b.ids.Remove(id)
		if !ok {
			continue
		}
		if r != last {
			copy(b.codes[r*b.words:(r+1)*b.words], b.codes[last*b.words:(last+1)*b.words])
			if b.vecs != nil {
				copy(b.vecs[r*d:(r+1)*d], b.vecs[last*d:(last+1)*d])
			}
		}
		b.codes = b.codes[:last*b.words]
		if b.vecs != nil {
			b.vecs = b.vecs[:last*d]
		}
		removed++
	}
	return removed, nil
}

// Search implements index.Index: hamming scan for rerank*k candidates
// (k when rerank is 0; never more than the index holds, see
// index.Candidates), then exact distances on the stored vectors.
func (b *Binary) Search(ctx context.Context, queries []float32, k int, p *index.SearchParams, outIDs []int64, outDist []float32) error {
	nq, pq, allow, err := index.CheckSearch(b.Bound(), queries, b.Dim(), k, p, outIDs, outDist)
	if err != nil {
		return err
	}
	if err := b.RLockOpen(); err != nil {
		return err
	}
	defer b.RUnlock()
	if b.threshold == nil {
		return b.notTrained("searching")
	}
	w, d, n := b.words, b.Dim(), b.ids.Len()
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
	l2 := b.Bound().Class() == metric.ClassL2
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
					x = b.Bound().FromL2(float64(ks.L2Sq(row, v)))
				} else {
					x = b.Bound().FromDot(float64(ks.Dot(row, v)))
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
	b.RLock()
	defer b.RUnlock()
	mem := int64(cap(b.codes))*8 + int64(cap(b.vecs))*4 + b.ids.MemoryBytes() + int64(len(b.threshold))*4
	return index.Info{Type: TypeName, Dim: b.Dim(), Metric: b.Metric().String(), Len: b.ids.Len(), MemoryBytes: mem}
}

// Close implements index.Index.
func (b *Binary) Close() error {
	return b.CloseWith(func() error {
		b.codes, b.vecs, b.ids = nil, nil, index.NewIDs()
		return nil
	})
}

// scratch is one search task's buffers: the query's code, candidates,
// the hamming distances of all codes.
type scratch struct {
	code []uint64
	cd   []float32
	ci   []int64
	ham  []uint16
}
