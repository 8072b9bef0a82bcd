package store

import (
	"context"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

// exactTop ranks the records ids by their exact distance to the query q
// (raw, dim values) and writes the best len(outIDs) into outIDs and
// outDist, sorted, padded with (-1, +Inf). It reads the table's vectors,
// as the caller gave them, so it is exact whatever the index stores. The
// caller holds mu. It is the planner's exact plan and the recall sampler's
// ground truth.
func (s *Store) exactTop(ctx context.Context, q []float32, ids []int64, outIDs []int64, outDist []float32) error {
	r, err := s.newRanker(q)
	if err != nil {
		return err
	}
	var top index.TopK
	top.Reset(outDist, outIDs)
	for lo := 0; lo < len(ids); lo += 4096 {
		if ctx.Err() != nil {
			return errs.Canceled
		}
		if err := r.push(&top, ids[lo:min(lo+4096, len(ids))]); err != nil {
			return err
		}
	}
	top.Finish()
	return nil
}

// ranker computes exact distances from one query to the table's vectors.
type ranker struct {
	s       *Store
	q       []float32 // prepared
	scratch []float32 // a prepared vector, for metrics that change vectors
}

func (s *Store) newRanker(q []float32) (*ranker, error) {
	pq, err := s.m.PrepareCopy(q, "queries")
	if err != nil {
		return nil, err
	}
	r := &ranker{s: s, q: pq}
	if s.m.NeedsPrepare() {
		r.scratch = make([]float32, s.cfg.Dim)
	}
	return r, nil
}

// dist is the exact distance to record id; the caller holds mu.
func (r *ranker) dist(id int64) (float64, error) {
	v := r.s.tab.vec(id)
	if r.scratch != nil {
		if err := r.s.m.Prepare(r.scratch, v, "vectors", 0); err != nil {
			return 0, err
		}
		v = r.scratch
	}
	return r.s.m.Pair(r.q, v), nil
}

// push offers the records ids to top; the caller holds mu.
func (r *ranker) push(top *index.TopK, ids []int64) error {
	for _, id := range ids {
		d, err := r.dist(id)
		if err != nil {
			return err
		}
		if f := float32(d); f <= top.Bound() {
			top.Push(f, id)
		}
	}
	return nil
}

// searchExact is the exact plan: every query ranked over allowed.
func (s *Store) searchExact(ctx context.Context, queries []float32, allowed []int64, per int, vids []int64, vdist []float32) error {
	d := s.cfg.Dim
	for q := 0; q*d < len(queries); q++ {
		if err := s.exactTop(ctx, queries[q*d:(q+1)*d], allowed, vids[q*per:(q+1)*per], vdist[q*per:(q+1)*per]); err != nil {
			return err
		}
	}
	return nil
}

// searchIndex is the index's search, with the allow-list inside when
// filtered.
func (s *Store) searchIndex(ctx context.Context, req SearchRequest, allowed []int64, filtered bool, per int, vids []int64, vdist []float32) error {
	p := &index.SearchParams{Ef: max(req.Ef, 0)}
	if filtered {
		p.Filter = &index.Filter{IDs: allowed}
	}
	return s.idx.Search(ctx, req.Vectors, per, p, vids, vdist)
}

// searchOverfetch asks the index for fetch results per query without the
// filter and keeps the first per that pass it; short reports a query that
// kept fewer than per while the index held more than it fetched.
func (s *Store) searchOverfetch(ctx context.Context, req SearchRequest, p pred, dp docPred, fetch, ef, per int, vids []int64, vdist []float32) (short bool, err error) {
	nq := len(req.Vectors) / s.cfg.Dim
	fids, fdist := make([]int64, nq*fetch), make([]float32, nq*fetch)
	sp := &index.SearchParams{Ef: max(req.Ef, ef, 0)}
	if err := s.idx.Search(ctx, req.Vectors, fetch, sp, fids, fdist); err != nil {
		return false, err
	}
	all := fetch >= s.tab.live()
	for q := 0; q < nq; q++ {
		n := 0
		for j := q * fetch; j < (q+1)*fetch && n < per; j++ {
			if id := fids[j]; id >= 0 && s.admits(id, p, dp) {
				vids[q*per+n], vdist[q*per+n] = id, fdist[j]
				n++
			}
		}
		if n < per {
			if !all {
				return true, nil
			}
			index.Pad(vdist[q*per+n:(q+1)*per], vids[q*per+n:(q+1)*per])
		}
	}
	return false, nil
}
