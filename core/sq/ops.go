package sq

import (
	"context"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// Add implements index.Index.
func (s *SQ) Add(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error {
	d := s.Dim()
	n, p, err := index.CheckAdd(s.Bound(), vectors, d, ids, assigned)
	if err != nil {
		return err
	}
	if err := s.LockOpen(); err != nil {
		return err
	}
	defer s.Unlock()
	if s.a == nil {
		return s.notTrained("adding to")
	}
	if ids, err = s.ids.Assign(ids, n, assigned); err != nil {
		return err
	}
	base := s.ids.Len()
	s.codes = append(s.codes, make([]uint8, n*s.codeSize)...)
	for i := range n {
		s.encode(p[i*d:(i+1)*d], s.codes[(base+i)*s.codeSize:(base+i+1)*s.codeSize])
	}
	s.ids.Append(ids)
	return nil
}

// Remove implements index.Index: the last row moves into the hole.
func (s *SQ) Remove(ctx context.Context, ids []int64) (int, error) {
	if err := s.LockOpen(); err != nil {
		return 0, err
	}
	defer s.Unlock()
	removed := 0
	for _, id := range ids {
		r, last, ok := s.ids.Remove(id)
		if !ok {
			continue
		}
		if r != last {
			copy(s.codes[r*s.codeSize:(r+1)*s.codeSize], s.codes[last*s.codeSize:(last+1)*s.codeSize])
		}
		s.codes = s.codes[:last*s.codeSize]
		removed++
	}
	return removed, nil
}

// Search implements index.Index. Queries go 4 at a time through the codes
// (DotU8F32Rows4 / DotU4F32Rows4: each code converted once for the 4),
// chunk by chunk, and the k results get their distances computed directly
// from their decoded values.
func (s *SQ) Search(ctx context.Context, queries []float32, k int, p *index.SearchParams, outIDs []int64, outDist []float32) error {
	nq, pq, allow, err := index.CheckSearch(s.Bound(), queries, s.Dim(), k, p, outIDs, outDist)
	if err != nil {
		return err
	}
	if err := s.RLockOpen(); err != nil {
		return err
	}
	defer s.RUnlock()
	if s.a == nil {
		return s.notTrained("searching")
	}
	d, cs, n := s.Dim(), s.codeSize, s.ids.Len()
	kk := index.Results(k, n)
	index.PadRows(outIDs, outDist, nq, k, kk)
	if kk == 0 {
		return nil
	}
	l2 := s.Bound().Class() == metric.ClassL2
	ks := kernels.Current()
	wl := s.weightsLen()
	var v []float32 // the codes' own term, for euclidean distances
	if l2 {
		v = s.a2
	}
	return parallel.For(ctx, (nq+3)/4, 1, func(lo, hi int) error {
		sc := s.scratch.Get()
		defer s.scratch.Put(sc)
		sc.w, sc.scores, sc.unpacked = index.Grow(sc.w, 4*wl), index.Grow(sc.scores, 4*scanChunk), index.Grow(sc.unpacked, d)
		w, scores, scratch := sc.w, sc.scores, sc.unpacked
		var h [4]index.TopK
		for g := lo; g < hi; g++ {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			q0, nq4 := 4*g, min(4, nq-4*g)
			clear(w)
			for r := range nq4 {
				s.weights(pq[(q0+r)*d:(q0+r+1)*d], w[r*wl:(r+1)*wl], l2)
				h[r].Reset(outDist[(q0+r)*k:(q0+r)*k+kk], outIDs[(q0+r)*k:(q0+r)*k+kk])
			}
			for r0 := 0; r0 < n; r0 += scanChunk {
				cnt := min(scanChunk, n-r0)
				out := scores[:4*cnt]
				if s.bits == 8 {
					ks.DotU8F32Rows4(w, v, d, s.codes[r0*cs:], cs, out)
				} else {
					ks.DotU4F32Rows4(w, v, cs, s.codes[r0*cs:], cs, out)
				}
				for r := range nq4 {
					hr := &h[r]
					bound := hr.Bound()
					for i := range cnt {
						score := out[4*i+r] // l2: |q-x|^2 - |q-b|^2
						if !l2 {
							score = -score
						}
						if score <= bound && (allow == nil || allow(s.ids.ID(r0+i))) {
							hr.Push(score, int64(r0+i))
							bound = hr.Bound()
						}
					}
				}
			}
			for r := range nq4 {
				q := q0 + r
				h[r].Finish()
				row, dist, ids := pq[q*d:(q+1)*d], outDist[q*k:q*k+kk], outIDs[q*k:q*k+kk]
				for i, rr := range ids {
					if rr < 0 {
						break
					}
					ids[i] = s.ids.ID(int(rr))
					dist[i] = s.exact(row, s.unpack(s.codes[rr*int64(cs):(rr+1)*int64(cs)], scratch))
				}
				index.SortResults(dist, ids)
			}
		}
		return nil
	})
}

// scanChunk is how many codes are scored before they are ranked: enough
// to amortise a kernel call, few enough for the scores to stay in L1.
const scanChunk = 256

// weights sets w to the per-dimension weights of prepared query q. l2:
// |q-x|^2 = |q-b|^2 + <-2a(q-b), c> + sum(a^2 c^2), the constant left out;
// dot: <q,x> = <q,b> + <a q, c>. For 4 bits the low nibbles' weights come
// first, then the high ones' (dimension h+i at w[codeSize+i]).
func (s *SQ) weights(q, w []float32, l2 bool) {
	for j, x := range q {
		if l2 {
			w[j] = -2 * s.a[j] * (x - s.b[j])
		} else {
			w[j] = s.a[j] * x
		}
	}
}

// exact is the metric's distance from prepared query q to a decoded code.
func (s *SQ) exact(q []float32, c []uint8) float32 {
	var acc float64
	for j, x := range q {
		y := float64(s.b[j]) + float64(s.a[j])*float64(c[j])
		if s.Bound().Class() == metric.ClassL2 {
			acc += (float64(x) - y) * (float64(x) - y)
		} else {
			acc += float64(x) * y
		}
	}
	if s.Bound().Class() == metric.ClassL2 {
		return float32(s.Bound().FromL2(acc))
	}
	return float32(s.Bound().FromDot(acc))
}
