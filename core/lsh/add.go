package lsh

import (
	"context"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

func (x *LSH) notTrained(what string) error {
	return fmt.Errorf("%w: %s a p-stable lsh index without a bucket width: call train (it estimates w from the sample) or give w", errs.State, what)
}

// Add implements index.Index. The vectors are hashed before the lock is
// taken exclusively (the hash functions never change once vectors are
// held; w is read under the shared lock), so searches wait only for the
// bucket updates.
func (x *LSH) Add(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error {
	d := x.Dim()
	n, p, err := index.CheckAdd(x.Bound(), vectors, d, ids, assigned)
	if err != nil {
		return err
	}
	if err := x.RLockOpen(); err != nil {
		return err
	}
	w := x.w
	x.RUnlock()
	if x.fam == pStable && w == 0 {
		return x.notTrained("adding to")
	}
	keys := make([]uint64, n*x.tables)
	if err := x.hashAll(ctx, p, keys); err != nil {
		return err
	}
	if err := x.LockOpen(); err != nil {
		return err
	}
	defer x.Unlock()
	if x.w != w { // trained again in between (only possible while empty)
		return fmt.Errorf("%w: the index was retrained during the add; add again", errs.State)
	}
	if ids, err = x.ids.Assign(ids, n, assigned); err != nil {
		return err
	}
	base := x.ids.Len()
	x.vecs = append(x.vecs, p...)
	x.keys = append(x.keys, keys...)
	x.file(base, base+n)
	x.ids.Append(ids)
	return nil
}

// hashAll writes the keys of the prepared rows of vecs into keys (tables
// per row).
func (x *LSH) hashAll(ctx context.Context, vecs []float32, keys []uint64) error {
	d, m := x.Dim(), x.tables*x.bits
	ks := kernels.Current()
	return parallel.For(ctx, len(vecs)/d, 64, func(lo, hi int) error {
		val, mins := make([]float32, m), make([]uint64, m)
		for r := lo; r < hi; r++ {
			x.project(ks, vecs[r*d:(r+1)*d], val, mins)
			x.homeKeys(val, mins, keys[r*x.tables:(r+1)*x.tables])
		}
		return parallel.Check(ctx)
	})
}

// Remove implements index.Index: the last row moves into the hole.
func (x *LSH) Remove(ctx context.Context, ids []int64) (int, error) {
	if err := x.LockOpen(); err != nil {
		return 0, err
	}
	defer x.Unlock()
	removed, d, T := 0, x.Dim(), x.tables
	for _, id := range ids {
		r, last, ok := x.ids.Remove(id)
		if !ok {
			continue
		}
		x.unfile(r)
		if r != last {
			x.renumber(last, r)
			copy(x.keys[r*T:(r+1)*T], x.keys[last*T:(last+1)*T])
			copy(x.vecs[r*d:(r+1)*d], x.vecs[last*d:(last+1)*d])
		}
		x.keys, x.vecs = x.keys[:last*T], x.vecs[:last*d]
		removed++
	}
	return removed, nil
}
