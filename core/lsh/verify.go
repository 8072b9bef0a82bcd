package lsh

import (
	"math"

	"github.com/oxvec/oxvec/core/index"
)

// Verify implements index.Verifier: the hash functions have the family's
// shapes (offsets in [0, 1)); a p-stable index holding vectors has a
// finite positive w; dim values and tables keys per row; every row is
// filed exactly once per table, in the bucket its key names, and no
// bucket is empty; the id mapping is a bijection of the rows with ids in
// [0, next_id).
func (x *LSH) Verify() error {
	x.RLock()
	defer x.RUnlock()
	if x.Closed() {
		return nil
	}
	broken := func(format string, a ...any) error { return index.Broken(TypeName, format, a...) }
	n, d, T, fns := x.ids.Len(), x.Dim(), x.tables, x.tables*x.bits
	h := x.hashes
	want := map[family][3]int{simHash: {fns * d, 0, 0}, pStable: {fns * d, fns, 0}, minHash: {0, 0, fns}}[x.fam]
	if len(h.proj) != want[0] || len(h.offs) != want[1] || len(h.salts) != want[2] {
		return broken("%s hash functions of %d/%d/%d values, want %v", x.fam, len(h.proj), len(h.offs), len(h.salts), want)
	}
	for i, u := range h.offs {
		if u < 0 || u >= 1 {
			return broken("offset %d is %g", i, u)
		}
	}
	if x.fam == pStable && n > 0 && (x.w <= 0 || math.IsInf(float64(x.w), 0) || math.IsNaN(float64(x.w))) {
		return broken("%d vectors with bucket width %g", n, x.w)
	}
	if len(x.vecs) != n*d || len(x.keys) != n*T || len(x.buckets) != T {
		return broken("%d values, %d keys, %d tables for %d rows of dim %d, %d tables", len(x.vecs), len(x.keys), len(x.buckets), n, d, T)
	}
	seen := make([]bool, n)
	for t, b := range x.buckets {
		clear(seen)
		for key, rows := range b {
			if len(rows) == 0 {
				return broken("table %d: empty bucket %#x kept", t, key)
			}
			for _, r := range rows {
				if r < 0 || int(r) >= n || x.keys[int(r)*T+t] != key {
					return broken("table %d: row %d in bucket %#x, not its own", t, r, key)
				}
				if seen[r] {
					return broken("table %d: row %d filed twice", t, r)
				}
				seen[r] = true
			}
		}
		for r, ok := range seen {
			if !ok {
				return broken("table %d: row %d in no bucket", t, r)
			}
		}
	}
	return x.ids.Verify(TypeName)
}
