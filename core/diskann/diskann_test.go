package diskann

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

var bg = context.Background()

// clustered returns n vectors of dim around 32 random centres (a spread
// like real embeddings', where a graph is easier to walk than on uniform
// noise) from seed.
func clustered(seed uint64, n, dim int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([]float32, 32*dim)
	for i := range centres {
		centres[i] = float32(rng.NormFloat64() * 3)
	}
	v := make([]float32, n*dim)
	for i := range n {
		c := rng.IntN(32)
		for j := range dim {
			v[i*dim+j] = centres[c*dim+j] + float32(rng.NormFloat64())
		}
	}
	return v
}

// exact returns the ids of the k nearest rows of base (ids[i] the id of
// row i; negative rows skipped) to each query, by float64 squared l2.
func exact(base []float32, ids []int64, q []float32, dim, k int) [][]int64 {
	n, nq := len(base)/dim, len(q)/dim
	out := make([][]int64, nq)
	type pair struct {
		d  float64
		id int64
	}
	for i := range nq {
		ps := make([]pair, 0, n)
		for r := range n {
			if ids[r] < 0 {
				continue
			}
			var s float64
			for j := range dim {
				x := float64(q[i*dim+j]) - float64(base[r*dim+j])
				s += x * x
			}
			ps = append(ps, pair{s, ids[r]})
		}
		sort.Slice(ps, func(a, b int) bool { return ps[a].d < ps[b].d || (ps[a].d == ps[b].d && ps[a].id < ps[b].id) })
		for j := 0; j < k && j < len(ps); j++ {
			out[i] = append(out[i], ps[j].id)
		}
	}
	return out
}

func recall(t *testing.T, idx index.Index, q []float32, want [][]int64, k int, p *index.SearchParams) float64 {
	t.Helper()
	nq := len(q) / idx.Dim()
	ids, dist := make([]int64, nq*k), make([]float32, nq*k)
	if err := idx.Search(bg, q, k, p, ids, dist); err != nil {
		t.Fatal(err)
	}
	hits := 0
	for i := range nq {
		for j := 1; j < k; j++ {
			if dist[i*k+j] < dist[i*k+j-1] {
				t.Fatalf("query %d: distances not sorted", i)
			}
		}
		for _, g := range ids[i*k : (i+1)*k] {
			for _, w := range want[i] {
				if g == w {
					hits++
				}
			}
		}
	}
	return float64(hits) / float64(nq*k)
}

func newIndex(t *testing.T, dim int, extra string) *DiskANN {
	t.Helper()
	spec := fmt.Sprintf(`{"type":"diskann","dim":%d,"r":32,"l_build":64,"pq_bytes":%d%s}`, dim, dim/4, extra)
	idx, err := index.New([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx.(*DiskANN)
}

func mustVerify(t *testing.T, x index.Index) {
	t.Helper()
	if err := index.Verify(x); err != nil {
		t.Fatal(err)
	}
}

func seq(n int) []int64 {
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i)
	}
	return ids
}

const dim, n, nq, k = 16, 1200, 30, 10

func TestDiskANN_Search_RecallAgainstExact(t *testing.T) {
	base, q := clustered(1, n, dim), clustered(2, nq, dim)
	path := filepath.Join(t.TempDir(), "idx.oxv")
	x := newIndex(t, dim, fmt.Sprintf(`,"path":%q`, path))
	if err := x.Add(bg, base, nil, nil); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, x)
	want := exact(base, seq(n), q, dim, k)
	if r := recall(t, x, q, want, k, &index.SearchParams{Ef: 64}); r < 0.95 {
		t.Fatalf("recall@10 = %.3f at l = 64, want >= 0.95", r)
	}
	s := x.Stats()
	if s.Queries != nq || s.BlocksRead == 0 || s.NodesExpanded < int64(nq*k) {
		t.Fatalf("stats %+v", s)
	}
	// the file at path opens in place and finds the same
	again, err := index.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	mustVerify(t, again)
	if r := recall(t, again, q, want, k, &index.SearchParams{Ef: 64}); r < 0.95 {
		t.Fatalf("reloaded: recall@10 = %.3f", r)
	}
	if again.(*DiskANN).Stats().Path != path {
		t.Fatalf("a loaded index reads %q", again.(*DiskANN).Stats().Path)
	}
}

func TestDiskANN_Search_WidensWithL(t *testing.T) {
	base, q := clustered(3, n, dim), clustered(4, nq, dim)
	x := newIndex(t, dim, "")
	x.Add(bg, base, nil, nil)
	want := exact(base, seq(n), q, dim, k)
	lo := recall(t, x, q, want, k, &index.SearchParams{Ef: 10})
	hi := recall(t, x, q, want, k, &index.SearchParams{Ef: 200})
	if hi < lo || hi < 0.97 {
		t.Fatalf("recall %.3f at l = 10, %.3f at l = 200", lo, hi)
	}
}

func TestDiskANN_Remove_ThenConsolidate(t *testing.T) {
	base, q := clustered(5, n, dim), clustered(6, nq, dim)
	path := filepath.Join(t.TempDir(), "idx.oxv")
	x := newIndex(t, dim, fmt.Sprintf(`,"path":%q`, path))
	x.Add(bg, base, nil, nil)
	ids := seq(n)
	var gone []int64
	for i := 0; i < n; i += 3 {
		gone = append(gone, int64(i))
		ids[i] = -1
	}
	if c, err := x.Remove(bg, gone); err != nil || c != len(gone) {
		t.Fatalf("removed %d (%v)", c, err)
	}
	mustVerify(t, x)
	want := exact(base, ids, q, dim, k)
	before := recall(t, x, q, want, k, &index.SearchParams{Ef: 64})
	if err := x.Consolidate(bg); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, x)
	if s := x.Stats(); s.DiskNodes != n-len(gone) || s.Deleted != 0 || x.Len() != n-len(gone) {
		t.Fatalf("after consolidate: %+v, len %d", s, x.Len())
	}
	after := recall(t, x, q, want, k, &index.SearchParams{Ef: 64})
	if before < 0.9 || after < 0.9 {
		t.Fatalf("recall %.3f before consolidate, %.3f after", before, after)
	}
	again, err := index.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Len() != n-len(gone) {
		t.Fatalf("the consolidated file holds %d", again.Len())
	}
}

func TestDiskANN_Add_ThenMerge(t *testing.T) {
	all, q := clustered(7, n, dim), clustered(8, nq, dim)
	first := 2 * n / 3
	x := newIndex(t, dim, "")
	if err := x.Add(bg, all[:first*dim], nil, nil); err != nil {
		t.Fatal(err)
	}
	for lo := first; lo < n; lo += 100 { // adds in batches go to the delta
		if err := x.Add(bg, all[lo*dim:min(n, lo+100)*dim], nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := x.Remove(bg, []int64{1, int64(first + 1)}); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, x)
	ids := seq(n)
	ids[1], ids[first+1] = -1, -1
	want := exact(all, ids, q, dim, k)
	if s := x.Stats(); s.DeltaNodes != n-first-1 {
		t.Fatalf("stats %+v", s)
	}
	if r := recall(t, x, q, want, k, &index.SearchParams{Ef: 64}); r < 0.95 {
		t.Fatalf("disk + delta: recall %.3f", r)
	}
	if err := x.Merge(bg); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, x)
	if s := x.Stats(); s.DeltaNodes != 0 || s.DiskNodes != n-2 || x.Len() != n-2 {
		t.Fatalf("after merge %+v", s)
	}
	if r := recall(t, x, q, want, k, &index.SearchParams{Ef: 64}); r < 0.95 {
		t.Fatalf("merged: recall %.3f", r)
	}
	if err := x.Add(bg, all[:dim], []int64{int64(first + 1)}, nil); err != nil {
		t.Fatalf("adding a removed id back: %v", err)
	}
	if err := x.Add(bg, all[:dim], []int64{5}, nil); !errors.Is(err, errs.DuplicateID) {
		t.Fatalf("adding a present id: %v", err)
	}
}

func TestDiskANN_Build_PartitionedUnderBudget(t *testing.T) {
	base, q := clustered(9, n, dim), clustered(10, nq, dim)
	want := exact(base, seq(n), q, dim, k)
	whole := newIndex(t, dim, "")
	whole.Add(bg, base, nil, nil)
	// the graph takes n * (4r + 32) = 192 KB; a 60 KB budget splits it
	part := newIndex(t, dim, `,"build_memory":60000`)
	part.Add(bg, base, nil, nil)
	mustVerify(t, part)
	if k := partitionCount(n, dim, 32, 60000); k < 4 {
		t.Fatalf("%d partitions", k)
	}
	a := recall(t, whole, q, want, k, &index.SearchParams{Ef: 64})
	b := recall(t, part, q, want, k, &index.SearchParams{Ef: 64})
	if b < 0.93 || b < a-0.04 {
		t.Fatalf("recall %.3f in memory, %.3f partitioned", a, b)
	}
}

func TestDiskANN_Filter(t *testing.T) {
	base, q := clustered(11, n, dim), clustered(12, nq, dim)
	x := newIndex(t, dim, "")
	x.Add(bg, base, nil, nil)
	mask := make([]bool, n)
	ids := seq(n)
	for i := range mask {
		mask[i] = i%2 == 1
		if !mask[i] {
			ids[i] = -1
		}
	}
	want := exact(base, ids, q, dim, k)
	if r := recall(t, x, q, want, k, &index.SearchParams{Ef: 128, Filter: &index.Filter{Mask: mask}}); r < 0.9 {
		t.Fatalf("half-mask recall %.3f", r)
	}
	few := []int64{3, 30, 300, 1199, 99999}
	got, dist := make([]int64, k), make([]float32, k)
	if err := x.Search(bg, q[:dim], k, &index.SearchParams{Filter: &index.Filter{IDs: few}}, got, dist); err != nil {
		t.Fatal(err)
	}
	for i, id := range got {
		if (i < 4) != (id >= 0) {
			t.Fatalf("few-id filter gave %v", got)
		}
	}
}

func TestDiskANN_Metrics(t *testing.T) {
	base, q := clustered(13, 1000, dim), clustered(14, 20, dim)
	for _, m := range []string{"cosine", "ip", "euclidean"} {
		x := newIndex(t, dim, fmt.Sprintf(`,"metric":%q`, m))
		if err := x.Add(bg, base, nil, nil); err != nil {
			t.Fatal(err)
		}
		mt, _ := metric.New(x.Bound().Kind, dim, metric.Params{})
		pb, _ := mt.PrepareCopy(base, "base")
		pb = append([]float32(nil), pb...)
		pqs, _ := mt.PrepareCopy(q, "queries")
		ids, dist := make([]int64, 20*k), make([]float32, 20*k)
		if err := x.Search(bg, q, k, &index.SearchParams{Ef: 100}, ids, dist); err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			id := ids[i*k]
			if want := mt.Pair(pqs[i*dim:(i+1)*dim], pb[int(id)*dim:int(id+1)*dim]); abs(float64(dist[i*k])-want) > 1e-3*(1+abs(want)) {
				t.Fatalf("%s: distance %v, exact %v", m, dist[i*k], want)
			}
		}
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestDiskANN_Load_DamagedFile(t *testing.T) {
	base := clustered(15, 500, dim)
	path := filepath.Join(t.TempDir(), "idx.oxv")
	x := newIndex(t, dim, fmt.Sprintf(`,"path":%q,"cache_nodes":0`, path))
	x.Add(bg, base, nil, nil)
	raw, _ := os.ReadFile(path)
	// truncated: the frame check fails
	cut := filepath.Join(t.TempDir(), "cut.oxv")
	os.WriteFile(cut, raw[:len(raw)-100], 0o644)
	if _, err := index.LoadFile(cut); !errors.Is(err, errs.Corrupt) {
		t.Fatalf("truncated file: %v", err)
	}
	// a flipped byte inside a block: loading without verify succeeds, the
	// search reading that record fails with Corrupt, verify refuses the load
	f, _ := format.Open(path)
	off, _, _, _ := f.Extent("blocks")
	f.Close()
	bad := append([]byte(nil), raw...)
	for i := int64(0); i < 500*4; i += 4 {
		bad[off+i*0+int64(i)] ^= 0x10 // damage every node's first values
	}
	dmg := filepath.Join(t.TempDir(), "dmg.oxv")
	os.WriteFile(dmg, bad, 0o644)
	if _, err := index.LoadFileWith(dmg, index.LoadOptions{Verify: true}); !errors.Is(err, errs.Corrupt) {
		t.Fatalf("verify of a damaged file: %v", err)
	}
	y, err := index.LoadFile(dmg)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	ids, dist := make([]int64, k), make([]float32, k)
	if err := y.Search(bg, base[:dim], k, nil, ids, dist); !errors.Is(err, errs.Corrupt) {
		t.Fatalf("search over damaged blocks: %v", err)
	}
	if err := index.Verify(y); err == nil {
		t.Fatal("verify passed a damaged file")
	}
}

func TestDiskANN_SaveLoad_Bytes(t *testing.T) {
	base, q := clustered(16, 800, dim), clustered(17, 10, dim)
	x := newIndex(t, dim, "")
	x.Add(bg, base[:600*dim], nil, nil)
	x.Add(bg, base[600*dim:], nil, nil)
	x.Remove(bg, []int64{0, 700})
	var a, b bytes.Buffer
	if err := x.Save(&a); err != nil {
		t.Fatal(err)
	}
	x.Save(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two saves differ")
	}
	y, err := index.Load(a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	mustVerify(t, y)
	if y.Len() != 798 {
		t.Fatalf("len %d", y.Len())
	}
	ids := seq(800)
	ids[0], ids[700] = -1, -1
	if r := recall(t, y, q, exact(base, ids, q, dim, k), k, &index.SearchParams{Ef: 64}); r < 0.95 {
		t.Fatalf("recall %.3f", r)
	}
}
