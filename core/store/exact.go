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
	pq, err := s.m.PrepareCopy(q, "queries")
	if err != nil {
		return err
	}
	var scratch []float32
	if s.m.NeedsPrepare() {
		scratch = make([]float32, s.cfg.Dim)
	}
	var top index.TopK
	top.Reset(outDist, outIDs)
	for i, id := range ids {
		if i&4095 == 4095 && ctx.Err() != nil {
			return errs.Canceled
		}
		v := s.tab.vec(id)
		if scratch != nil {
			if err := s.m.Prepare(scratch, v, "vectors", 0); err != nil {
				return err
			}
			v = scratch
		}
		if d := float32(s.m.Pair(pq, v)); d <= top.Bound() {
			top.Push(d, id)
		}
	}
	top.Finish()
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
func (s *Store) searchOverfetch(ctx context.Context, req SearchRequest, p pred, dp docPred, fetch, per int, vids []int64, vdist []float32) (short bool, err error) {
	nq := len(req.Vectors) / s.cfg.Dim
	fids, fdist := make([]int64, nq*fetch), make([]float32, nq*fetch)
	sp := &index.SearchParams{Ef: max(req.Ef, 0)}
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
