package diskann

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/oxvec/oxvec/core/index"
)

// The concurrent path of readBlocks is off by default (it did not pay on
// this machine's disk: RESULTS.md "diskann-reads"), so no other test runs
// it; it must read the same blocks into the same slots as the serial one.
func TestDiskANN_ReadBlocks_ConcurrentEqualsSerial(t *testing.T) {
	base, q := clustered(5, n, dim), clustered(6, nq, dim)
	path := filepath.Join(t.TempDir(), "idx.oxv")
	x := newIndex(t, dim, fmt.Sprintf(`,"path":%q,"cache_nodes":0`, path))
	if err := x.Add(bg, base, nil, nil); err != nil {
		t.Fatal(err)
	}
	search := func() ([]int64, []float32) {
		ids, dist := make([]int64, nq*k), make([]float32, nq*k)
		if err := x.Search(bg, q, k, &index.SearchParams{Ef: 48}, ids, dist); err != nil {
			t.Fatal(err)
		}
		return ids, dist
	}
	serialIDs, serialDist := search()
	concurrentReads = true
	defer func() { concurrentReads = false }()
	ids, dist := search()
	if !slices.Equal(ids, serialIDs) || !slices.Equal(dist, serialDist) {
		t.Fatal("concurrent reads changed the results")
	}
}
