package ivf

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// Lists are the parts of an inverted file built by another library
// (faiss's IndexIVFFlat): the coarse centroids and, per list, its ids and
// vectors, the lists one after the other.
type Lists struct {
	NProbe    int
	Centroids []float32 // nlist rows of dim
	Sizes     []int     // nlist: vectors per list
	IDs       []int64   // sum(Sizes) ids, >= 0 and distinct
	Vectors   []float32 // sum(Sizes) rows of dim, in the same order
}

// FromLists returns a trained index holding exactly these lists: no vector
// is reassigned, so a search probing the same cells scans the same
// vectors as the library did. The result passes Verify.
func FromLists(dim int, m *metric.Metric, l Lists) (*IVF, error) {
	nlist := len(l.Sizes)
	x, err := New(dim, m, nlist, max(l.NProbe, 1), 0)
	if err != nil {
		return nil, err
	}
	total := 0
	for c, n := range l.Sizes {
		if n < 0 || n > len(l.IDs)-total {
			return nil, fmt.Errorf("%w: ivf_flat import: list %d holds %d vectors, more than the %d ids", errs.Corrupt, c, n, len(l.IDs))
		}
		total += n
	}
	if total != len(l.IDs) || len(l.Vectors) != total*dim || len(l.Centroids) != nlist*dim {
		return nil, fmt.Errorf("%w: ivf_flat import: lists of %d vectors, %d ids, %d values, %d centroid values for %d lists of dim %d",
			errs.Corrupt, total, len(l.IDs), len(l.Vectors), len(l.Centroids), nlist, dim)
	}
	if err := index.CheckFinite(l.Centroids, dim, "centroids"); err != nil {
		return nil, err
	}
	_, prepared, err := index.CheckAdd(m, l.Vectors, dim, l.IDs, nil)
	if err != nil {
		return nil, err
	}
	if err := x.setCentroids(append([]float32(nil), l.Centroids...)); err != nil {
		return nil, err
	}
	at, next := 0, int64(0)
	for c, n := range l.Sizes {
		lst := &x.lists[c]
		lst.ids = append([]int64(nil), l.IDs[at:at+n]...)
		lst.vecs = append([]float32(nil), prepared[at*dim:(at+n)*dim]...)
		for _, id := range lst.ids {
			next = max(next, id+1)
		}
		at += n
	}
	if err := x.ids.Restore(x.each, next); err != nil {
		return nil, fmt.Errorf("ivf_flat import: %w", err)
	}
	return x, nil
}

// Parts returns what a faiss IndexIVFFlat file holds: nprobe, the
// centroids and each list's ids and vectors (views of the index's own
// arrays: read them before the index changes).
func (x *IVF) Parts() (nprobe int, centroids []float32, ids [][]int64, vecs [][]float32, err error) {
	if err := x.RLockOpen(); err != nil {
		return 0, nil, nil, nil, err
	}
	defer x.RUnlock()
	if x.centroids == nil {
		return 0, nil, nil, nil, x.notTrained("exporting")
	}
	for _, l := range x.lists {
		ids, vecs = append(ids, l.ids), append(vecs, l.vecs)
	}
	return int(x.nprobe.Load()), x.centroids, ids, vecs, nil
}
