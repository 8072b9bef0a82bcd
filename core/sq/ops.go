package sq

import (
	"context"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// Add implements index.Index.
func (s *SQ) Add(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error {
	n, p, err := index.CheckAdd(s.metric, vectors, s.dim, ids, assigned)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errs.Closed
	}
	if s.a == nil {
		return s.notTrained("adding to")
	}
	if ids, err = s.ids.Assign(ids, n, assigned); err != nil {
		return err
	}
	base := s.ids.Len()
	s.codes = append(s.codes, make([]uint8, n*s.codeSize)...)
	scratch := make([]uint8, s.dim)
	for i := range n {
		c := s.codes[(base+i)*s.codeSize : (base+i+1)*s.codeSize]
		s.encode(p[i*s.dim:(i+1)*s.dim], c)
		if s.metric.Class() == metric.ClassL2 {
			s.sq = append(s.sq, s.normTerm(s.unpack(c, scratch)))
		}
	}
	s.ids.Append(ids)
	return nil
}

// normTerm is sum(a[j]^2 c[j]^2), the code's own part of |q - x|^2.
func (s *SQ) normTerm(c []uint8) float32 {
	var t float64
	for j, v := range c {
		x := float64(s.a[j]) * float64(v)
		t += x * x
	}
	return float32(t)
}

// Remove implements index.Index: the last row moves into the hole.
func (s *SQ) Remove(ctx context.Context, ids []int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errs.Closed
	}
	removed := 0
	for _, id := range ids {
		r, last, ok := s.ids.Remove(id)
		if !ok {
			continue
		}
		if r != last {
			copy(s.codes[r*s.codeSize:(r+1)*s.codeSize], s.codes[last*s.codeSize:(last+1)*s.codeSize])
			if s.sq != nil {
				s.sq[r] = s.sq[last]
			}
		}
		s.codes = s.codes[:last*s.codeSize]
		if s.sq != nil {
			s.sq = s.sq[:last]
		}
		removed++
	}
	return removed, nil
}

// Search implements index.Index: every code is scored with one DotU8F32
// call, and the k results get their distances computed directly from
// their decoded values.
func (s *SQ) Search(ctx context.Context, queries []float32, k int, p *index.SearchParams, outIDs []int64, outDist []float32) error {
	nq, pq, allow, err := index.CheckSearch(s.metric, queries, s.dim, k, p, outIDs, outDist)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errs.Closed
	}
	if s.a == nil {
		return s.notTrained("searching")
	}
	d, cs, n := s.dim, s.codeSize, s.ids.Len()
	l2 := s.metric.Class() == metric.ClassL2
	ks := kernels.Current()
	return parallel.For(ctx, nq, 4, func(lo, hi int) error {
		w := make([]float32, 2*cs) // 4 bits: weights of the low then the high nibbles (zero-padded)
		scratch := make([]uint8, d)
		var h index.TopK
		for q := lo; q < hi; q++ {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			row := pq[q*d : (q+1)*d]
			// l2: |q-x|^2 = |q-b|^2 - 2<a(q-b), c> + sum(a^2 c^2); dot: <q,x> = <q,b> + <a q, c>
			for j, x := range row {
				if l2 {
					w[j] = s.a[j] * (x - s.b[j])
				} else {
					w[j] = s.a[j] * x
				}
			}
			dist, ids := outDist[q*k:(q+1)*k], outIDs[q*k:(q+1)*k]
			h.Reset(dist, ids)
			bound := h.Bound()
			for r := 0; r < n; r++ {
				c := s.codes[r*cs : (r+1)*cs]
				var v float32
				if s.bits == 8 {
					v = -ks.DotU8F32(w[:d], c)
				} else {
					v = -ks.DotU4F32(w[:cs], w[cs:], c)
				}
				if l2 {
					v = s.sq[r] + 2*v
				}
				if v <= bound && (allow == nil || allow(s.ids.List[r])) {
					h.Push(v, int64(r))
					bound = h.Bound()
				}
			}
			h.Finish()
			for i, r := range ids {
				if r < 0 {
					break
				}
				ids[i] = s.ids.List[r]
				dist[i] = s.exact(row, s.unpack(s.codes[r*int64(cs):(r+1)*int64(cs)], scratch))
			}
			index.SortResults(dist, ids)
		}
		return nil
	})
}

// exact is the metric's distance from prepared query q to a decoded code.
func (s *SQ) exact(q []float32, c []uint8) float32 {
	var acc float64
	for j, x := range q {
		y := float64(s.b[j]) + float64(s.a[j])*float64(c[j])
		if s.metric.Class() == metric.ClassL2 {
			acc += (float64(x) - y) * (float64(x) - y)
		} else {
			acc += float64(x) * y
		}
	}
	if s.metric.Class() == metric.ClassL2 {
		return float32(s.metric.FromL2(acc))
	}
	return float32(s.metric.FromDot(acc))
}
