package hnsw

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
)

var bg = context.Background()

// baseAndQueries draws n base points and nq queries around the same
// centres, so the queries look like the data (as real queries do).
func baseAndQueries(seed int64, n, nq, d int) ([]float32, []float32) {
	all := clustered(seed, n+nq, d)
	return all[:n*d], all[n*d:]
}

// clustered returns n points around 20 random centres: closer to real
// embeddings than uniform noise.
func clustered(seed int64, n, d int) []float32 {
	rng := rand.New(rand.NewSource(seed))
	centres := make([]float32, 20*d)
	for i := range centres {
		centres[i] = float32(rng.NormFloat64())
	}
	v := make([]float32, n*d)
	for i := 0; i < n; i++ {
		c := rng.Intn(20)
		for j := 0; j < d; j++ {
			v[i*d+j] = centres[c*d+j] + 0.4*float32(rng.NormFloat64())
		}
	}
	return v
}

func build(t testing.TB, kind metric.Kind, d int, base []float32, p Params) *HNSW {
	t.Helper()
	m, err := metric.New(kind, d, metric.Params{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(d, m, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Add(bg, base, nil, nil); err != nil {
		t.Fatal(err)
	}
	return h
}

func search(t testing.TB, idx index.Index, q []float32, k int, p *index.SearchParams) ([]int64, []float32) {
	t.Helper()
	nq := len(q) / idx.Dim()
	ids, dist := make([]int64, nq*k), make([]float32, nq*k)
	if err := idx.Search(bg, q, k, p, ids, dist); err != nil {
		t.Fatal(err)
	}
	return ids, dist
}

// recall is the share of exact's results that got found.
func recall(got, exact []int64, k int) float64 {
	hits, total := 0, 0
	for q := 0; q < len(exact)/k; q++ {
		want := map[int64]bool{}
		for _, id := range exact[q*k : (q+1)*k] {
			if id >= 0 {
				want[id] = true
				total++
			}
		}
		for _, id := range got[q*k : (q+1)*k] {
			if want[id] {
				hits++
			}
		}
	}
	if total == 0 {
		return 1
	}
	return float64(hits) / float64(total)
}

func exactIndex(t testing.TB, kind metric.Kind, d int, base []float32) *flat.Flat {
	f, err := flat.Of(d, kind)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Add(bg, base, nil, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

// scaled shrinks a test's data under the race detector.
func scaled(n int) int {
	if raceEnabled {
		return n / 5
	}
	return n
}

func TestHNSW_RecallAgainstExact(t *testing.T) {
	const d, nq, k = 32, 100, 10
	n := scaled(5000)
	base, queries := baseAndQueries(1, n, nq, d)
	for _, kind := range []metric.Kind{metric.L2, metric.Cosine, metric.IP, metric.Manhattan} {
		h := build(t, kind, d, base, Params{})
		got, _ := search(t, h, queries, k, nil)
		want, _ := search(t, exactIndex(t, kind, d, base), queries, k, nil)
		if r := recall(got, want, k); r < 0.95 {
			t.Errorf("%v: recall@%d = %.3f, want >= 0.95", kind, k, r)
		}
	}
}

func TestHNSW_DistancesAreTheMetricsExactOnes(t *testing.T) {
	const d = 16
	base := clustered(3, 500, d)
	for _, kind := range []metric.Kind{metric.L2, metric.Euclidean, metric.Cosine, metric.Angular, metric.Chebyshev} {
		h := build(t, kind, d, base, Params{})
		ids, dist := search(t, h, base[:d], 3, nil)
		if ids[0] != 0 || dist[0] > 1e-6 {
			t.Fatalf("%v: a stored vector's nearest is (%d, %v), want itself at 0", kind, ids[0], dist[0])
		}
		m, _ := metric.New(kind, d, metric.Params{})
		pv, _ := m.PrepareCopy(append([]float32(nil), base[:d]...), "q")
		other := base[int(ids[1])*d : int(ids[1]+1)*d]
		po, _ := m.PrepareCopy(append([]float32(nil), other...), "x")
		if want := float32(m.Pair(pv, po)); abs(dist[1]-want) > 1e-5*(1+want) {
			t.Fatalf("%v: reported %v, exact %v", kind, dist[1], want)
		}
	}
}

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func TestHNSW_PadsWhenFewerThanK(t *testing.T) {
	h := build(t, metric.L2, 4, []float32{1, 2, 3, 4, 5, 6, 7, 8}, Params{})
	ids, _ := search(t, h, []float32{0, 0, 0, 0}, 5, nil)
	if ids[0] != 0 || ids[1] != 1 || ids[2] != -1 || ids[4] != -1 {
		t.Fatalf("got %v", ids)
	}
	empty, _ := New(4, mustMetric(metric.L2, 4), Params{})
	ids, _ = search(t, empty, []float32{0, 0, 0, 0}, 2, nil)
	if ids[0] != -1 || ids[1] != -1 {
		t.Fatalf("empty index: %v", ids)
	}
}

func mustMetric(k metric.Kind, d int) *metric.Metric {
	m, err := metric.New(k, d, metric.Params{})
	if err != nil {
		panic(err)
	}
	return m
}

func TestHNSW_RemoveRepairsTheGraph(t *testing.T) {
	const d, n, nq, k = 24, 4000, 100, 10
	base, queries := baseAndQueries(4, n, nq, d)
	h := build(t, metric.L2, d, base, Params{})
	var gone []int64
	keep := make([]bool, n)
	rng := rand.New(rand.NewSource(6))
	for i := 0; i < n; i++ {
		if rng.Float64() < 0.4 {
			gone = append(gone, int64(i))
		} else {
			keep[i] = true
		}
	}
	ep, _, _ := h.entryPoint()
	gone = append(gone, h.ids[ep]) // the entry point too
	keep[h.ids[ep]] = false
	removed, err := h.Remove(bg, gone)
	if err != nil {
		t.Fatal(err)
	}
	if removed != len(gone)-countDup(gone) {
		t.Fatalf("removed %d of %d", removed, len(gone))
	}
	got, _ := search(t, h, queries, k, nil)
	var keptVecs []float32
	var keptIDs []int64
	for i := 0; i < n; i++ {
		if keep[i] {
			keptVecs = append(keptVecs, base[i*d:(i+1)*d]...)
			keptIDs = append(keptIDs, int64(i))
		}
	}
	ex := exactIndex(t, metric.L2, d, nil)
	ex.Add(bg, keptVecs, keptIDs, nil)
	want, _ := search(t, ex, queries, k, nil)
	for _, id := range got {
		if id >= 0 && !keep[id] {
			t.Fatalf("removed id %d returned", id)
		}
	}
	if r := recall(got, want, k); r < 0.93 {
		t.Fatalf("recall after removing 40%% = %.3f, want >= 0.93", r)
	}
	// the freed slots are reused
	before := h.used
	h.Add(bg, clustered(7, 100, d), nil, nil)
	if h.used != before {
		t.Fatalf("adding 100 after removals grew the slots from %d to %d", before, h.used)
	}
}

func countDup(ids []int64) int {
	seen := map[int64]bool{}
	dup := 0
	for _, id := range ids {
		if seen[id] {
			dup++
		}
		seen[id] = true
	}
	return dup
}

func TestHNSW_RemoveEverythingThenAdd(t *testing.T) {
	h := build(t, metric.L2, 3, clustered(8, 50, 3), Params{})
	ids := make([]int64, 50)
	for i := range ids {
		ids[i] = int64(i)
	}
	if c, _ := h.Remove(bg, ids); c != 50 || h.Len() != 0 {
		t.Fatalf("removed %d, len %d", c, h.Len())
	}
	got, _ := search(t, h, []float32{0, 0, 0}, 3, nil)
	if got[0] != -1 {
		t.Fatalf("empty after removals: %v", got)
	}
	h.Add(bg, []float32{1, 1, 1}, []int64{77}, nil)
	got, _ = search(t, h, []float32{0, 0, 0}, 1, nil)
	if got[0] != 77 {
		t.Fatalf("after re-add: %v", got)
	}
}

func TestHNSW_CompactReclaimsMemoryAndKeepsResults(t *testing.T) {
	const d, n = 16, 3000
	base, queries := baseAndQueries(9, n, 50, d)
	h := build(t, metric.L2, d, base, Params{})
	var gone []int64
	for i := 0; i < n; i += 2 {
		gone = append(gone, int64(i))
	}
	h.Remove(bg, gone)
	before, _ := search(t, h, queries, 10, nil)
	mem := h.Info().MemoryBytes
	if err := h.Compact(); err != nil {
		t.Fatal(err)
	}
	after, _ := search(t, h, queries, 10, nil)
	if r := recall(after, before, 10); r < 0.99 {
		t.Fatalf("compact changed results: overlap %.3f", r)
	}
	if got := h.Info().MemoryBytes; got > mem*6/10 {
		t.Fatalf("memory %d -> %d after compacting half away", mem, got)
	}
	if h.used != n/2 || len(h.free) != 0 {
		t.Fatalf("used %d free %d", h.used, len(h.free))
	}
}

func TestHNSW_AddingAPresentIDIsADuplicate(t *testing.T) {
	h := build(t, metric.L2, 2, []float32{0, 0, 10, 10}, Params{})
	if err := h.Add(bg, []float32{100, 100}, []int64{0}, nil); !errors.Is(err, errs.DuplicateID) {
		t.Fatalf("re-adding id 0: %v, want a duplicate id error", err)
	}
	if h.Len() != 2 {
		t.Fatalf("len %d after a refused add", h.Len())
	}
	if _, err := h.Remove(bg, []int64{0}); err != nil {
		t.Fatal(err)
	}
	if err := h.Add(bg, []float32{100, 100}, []int64{0}, nil); err != nil {
		t.Fatal(err)
	}
	ids, dist := search(t, h, []float32{100, 100}, 1, nil)
	if ids[0] != 0 || dist[0] != 0 || h.Len() != 2 {
		t.Fatalf("got (%d, %v), len %d", ids[0], dist[0], h.Len())
	}
}

func TestHNSW_FilteredRecall(t *testing.T) {
	const d, nq, k = 24, 50, 10
	n := scaled(10000)
	base, queries := baseAndQueries(11, n, nq, d)
	h := build(t, metric.L2, d, base, Params{})
	// walk the graph down to 1% (100 nodes), where the default would scan;
	// the 0.1% case then shows the scan
	h.scanBelow = n / 200
	ex := exactIndex(t, metric.L2, d, base)
	rng := rand.New(rand.NewSource(13))
	for _, share := range []float64{0.5, 0.1, 0.01, 0.001} {
		mask := make([]bool, n)
		var allowed []int64
		for i := range mask {
			if rng.Float64() < share {
				mask[i] = true
				allowed = append(allowed, int64(i))
			}
		}
		for name, f := range map[string]*index.Filter{"mask": {Mask: mask}, "ids": {IDs: allowed}} {
			got, _ := search(t, h, queries, k, &index.SearchParams{Filter: f})
			for _, id := range got {
				if id >= 0 && !mask[id] {
					t.Fatalf("%v %s: id %d is not allowed", share, name, id)
				}
			}
			want, _ := search(t, ex, queries, k, &index.SearchParams{Filter: f})
			if r := recall(got, want, k); r < 0.95 {
				t.Errorf("%.1f%% allowed (%s): filtered recall@%d = %.3f, want >= 0.95", 100*share, name, k, r)
			} else {
				t.Logf("%.1f%% allowed (%s): recall %.3f", 100*share, name, r)
			}
		}
	}
}

func TestHNSW_ConcurrentSearchAddRemove(t *testing.T) {
	const d = 16
	h := build(t, metric.L2, d, clustered(14, 2000, d), Params{EfConstruction: 64})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errc := make(chan error, 8)
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			q := clustered(int64(100+w), 8, d)
			ids, dist := make([]int64, 80), make([]float32, 80)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := h.Search(bg, q, 10, nil, ids, dist); err != nil {
					errc <- err
					return
				}
				for i := 1; i < len(dist); i++ {
					if i%10 != 0 && dist[i] < dist[i-1] {
						errc <- errors.New("results out of order")
						return
					}
				}
			}
		}(w)
	}
	for i := 0; i < 40; i++ {
		got := make([]int64, 20)
		if err := h.Add(bg, clustered(int64(200+i), 20, d), nil, got); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Remove(bg, got[:10]); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	if h.Len() != 2000+40*10 {
		t.Fatalf("len %d", h.Len())
	}
}

func TestHNSW_SingleThreadedBuildIsDeterministic(t *testing.T) {
	parallel.SetWorkers(1)
	defer parallel.SetWorkers(0)
	base := clustered(15, 1000, 8)
	a := build(t, metric.L2, 8, base, Params{Seed: 42})
	b := build(t, metric.L2, 8, base, Params{Seed: 42})
	var ba, bb bytes.Buffer
	a.Save(&ba)
	b.Save(&bb)
	if !bytes.Equal(ba.Bytes(), bb.Bytes()) {
		t.Fatal("two single-threaded builds with one seed differ")
	}
}

func TestHNSW_SaveLoadAndMap(t *testing.T) {
	const d = 12
	base, queries := baseAndQueries(16, 2000, 20, d)
	h := build(t, metric.Cosine, d, base, Params{})
	h.Remove(bg, []int64{5, 6, 7})
	want, wantD := search(t, h, queries, 5, nil)
	path := filepath.Join(t.TempDir(), "h.oxv")
	if err := index.SaveFile(h, path); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []index.LoadOptions{{}, {Mmap: true}, {Mmap: true, Verify: true}} {
		g, err := index.LoadFileWith(path, opts)
		if err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		got, gotD := search(t, g, queries, 5, nil)
		for i := range got {
			if got[i] != want[i] || gotD[i] != wantD[i] {
				t.Fatalf("%+v: result %d differs after load", opts, i)
			}
		}
		// a mapped index copies itself to the heap before changing
		if err := g.Add(bg, base[:d], []int64{100000}, nil); err != nil {
			t.Fatal(err)
		}
		if c, _ := g.Remove(bg, []int64{0}); c != 1 || g.Len() != 2000-3 {
			t.Fatalf("%+v: remove after load: %d, len %d", opts, c, g.Len())
		}
		g.Close()
	}
}

func TestHNSW_DamagedFilesAreErrors(t *testing.T) {
	h := build(t, metric.L2, 4, clustered(18, 300, 4), Params{})
	var buf bytes.Buffer
	h.Save(&buf)
	data := buf.Bytes()
	dir := t.TempDir()
	for i := 0; i < 60; i++ {
		bad := append([]byte(nil), data...)
		pos := rand.New(rand.NewSource(int64(i))).Intn(len(bad))
		bad[pos] ^= 0x5a
		path := filepath.Join(dir, "bad.oxv")
		os.WriteFile(path, bad, 0o644)
		for _, opts := range []index.LoadOptions{{}, {Mmap: true}} {
			g, err := index.LoadFileWith(path, opts)
			if err == nil {
				// undetected only where the checksum was skipped (vectors of
				// a mapped file): it must still search without failing
				if _, err := g.(*HNSW).searchOK(); err != nil {
					t.Fatalf("flip at %d %+v loaded but search failed: %v", pos, opts, err)
				}
				g.Close()
				continue
			}
			if !errors.Is(err, errs.Corrupt) && !errors.Is(err, errs.Unsupported) {
				t.Fatalf("flip at %d %+v: %v is not errs.Corrupt", pos, opts, err)
			}
		}
	}
}

func (h *HNSW) searchOK() ([]int64, error) {
	ids, dist := make([]int64, 3), make([]float32, 3)
	return ids, h.Search(bg, make([]float32, h.Dim()), 3, nil, ids, dist)
}

// reachable counts the nodes a level-0 walk from the entry point can reach.
func reachable(h *HNSW) int {
	ep, _, ok := h.entryPoint()
	if !ok {
		return 0
	}
	seen := map[uint32]bool{ep: true}
	stack := []uint32{ep}
	var buf []uint32
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		buf = h.neighbours(x, 0, buf[:0])
		for _, y := range buf {
			if !seen[y] {
				seen[y] = true
				stack = append(stack, y)
			}
		}
	}
	return len(seen)
}

func TestHNSW_EveryNodeStaysReachable(t *testing.T) {
	// pruning can drop a node from every list that held it (hnswlib and
	// faiss leave it lost); orphans are relinked after each add and remove
	rng := rand.New(rand.NewSource(19))
	for trial := 0; trial < 20; trial++ {
		x := make([]float32, 500*8)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		h := build(t, metric.L2, 8, x, Params{})
		if got := reachable(h); got != h.live {
			t.Fatalf("trial %d: %d of %d nodes reachable after build", trial, got, h.live)
		}
		var gone []int64
		for i := 0; i < 500; i += 3 {
			gone = append(gone, int64(i))
		}
		h.Remove(bg, gone)
		if got := reachable(h); got != h.live {
			t.Fatalf("trial %d: %d of %d nodes reachable after removals", trial, got, h.live)
		}
	}
}

func TestHNSW_Int8WalkKeepsRecallAndExactDistances(t *testing.T) {
	const d, nq, k = 32, 100, 10
	n := scaled(5000)
	base, queries := baseAndQueries(20, n, nq, d)
	for _, kind := range []metric.Kind{metric.L2, metric.Cosine, metric.Euclidean} {
		h := build(t, kind, d, base, Params{Quantize: "int8"})
		got, gotD := search(t, h, queries, k, nil)
		ex := exactIndex(t, kind, d, base)
		want, wantD := search(t, ex, queries, k, nil)
		if r := recall(got, want, k); r < 0.95 {
			t.Errorf("%v int8: recall %.3f", kind, r)
		}
		for i := range got {
			if got[i] == want[i] && abs(gotD[i]-wantD[i]) > 1e-4*(1+wantD[i]) {
				t.Fatalf("%v: distance %v, exact %v", kind, gotD[i], wantD[i])
			}
		}
	}
	m, _ := metric.New(metric.IP, d, metric.Params{})
	if _, err := New(d, m, Params{Quantize: "int8"}); !errors.Is(err, errs.Unsupported) {
		t.Fatalf("ip with int8: %v", err)
	}
}

func TestHNSW_Int8ScaleFollowsTheData(t *testing.T) {
	h := build(t, metric.L2, 4, []float32{1, 0, 0, 0, 0, 1, 0, 0}, Params{Quantize: "int8"})
	// a much larger batch re-encodes the first rows at the new scale
	if err := h.Add(bg, []float32{100, 0, 0, 0, 0, 100, 0, 0}, nil, nil); err != nil {
		t.Fatal(err)
	}
	ids, _ := search(t, h, []float32{1, 0, 0, 0}, 1, nil)
	if ids[0] != 0 {
		t.Fatalf("nearest to (1,0,0,0) is %d", ids[0])
	}
	var buf bytes.Buffer
	h.Save(&buf)
	g, err := index.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	ids, _ = search(t, g, []float32{0, 99, 0, 0}, 1, nil)
	if ids[0] != 3 {
		t.Fatalf("after reload, nearest to (0,99,0,0) is %d", ids[0])
	}
	g.(*HNSW).Remove(bg, []int64{0})
	if err := g.(*HNSW).Compact(); err != nil {
		t.Fatal(err)
	}
	ids, _ = search(t, g, []float32{0, 99, 0, 0}, 1, nil)
	if ids[0] != 3 {
		t.Fatalf("after compact, nearest is %d", ids[0])
	}
}

// A plain load keeps the arrays in the load buffer; growing past them must
// reallocate, not write into the sections that follow. ef above the node
// count makes the searches exhaustive, so any miss is damage, not recall.
func TestHNSW_LoadedIndexGrowsWithoutOverwritingItsBuffer(t *testing.T) {
	const d = 8
	base, extra := baseAndQueries(21, 500, 700, d)
	h := build(t, metric.L2, d, base, Params{})
	var buf bytes.Buffer
	if err := h.Save(&buf); err != nil {
		t.Fatal(err)
	}
	g, err := index.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, 700)
	for i := range ids {
		ids[i] = int64(10000 + i)
	}
	if err := g.Add(bg, extra, ids, nil); err != nil {
		t.Fatal(err)
	}
	got, dist := search(t, g, base, 1, &index.SearchParams{Ef: 2000})
	for i := range 500 {
		if got[i] != int64(i) || dist[i] != 0 {
			t.Fatalf("old vector %d: nearest %d at %g after growth", i, got[i], dist[i])
		}
	}
	got, _ = search(t, g, extra, 1, &index.SearchParams{Ef: 2000})
	for i := range 700 {
		if got[i] != ids[i] {
			t.Fatalf("new vector %d: nearest %d", i, got[i])
		}
	}
}

func TestHNSW_QuantizeDefaultsToInt8WhereItPays(t *testing.T) {
	cases := []struct {
		kind     metric.Kind
		dim      int
		set      string
		want     string
		hasCodes bool
	}{
		{metric.L2, 128, "", "int8", true},
		{metric.Cosine, 384, "", "int8", true},
		{metric.L2, quantizeFromDim - 1, "", "none", false}, // narrow rows: float32
		{metric.IP, 128, "", "none", false},                 // codes would not keep ip's order
		{metric.Manhattan, 128, "", "none", false},
		{metric.L2, 128, "none", "none", false},
		{metric.L2, 16, "int8", "int8", true},
	}
	for _, c := range cases {
		m, err := metric.New(c.kind, c.dim, metric.Params{})
		if err != nil {
			t.Fatal(err)
		}
		h, err := New(c.dim, m, Params{Quantize: c.set})
		if err != nil {
			t.Fatalf("%v d%d %q: %v", c.kind, c.dim, c.set, err)
		}
		if h.Params().Quantize != c.want || (h.quant != nil) != c.hasCodes || h.Info().Quantize != c.want {
			t.Errorf("%v d%d %q: quantize %q, codes %v", c.kind, c.dim, c.set, h.Params().Quantize, h.quant != nil)
		}
	}
	m, _ := metric.New(metric.L2, 8, metric.Params{})
	if _, err := New(8, m, Params{Quantize: "int4"}); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("quantize int4: %v", err)
	}
}

func TestHNSW_FileWithoutQuantizeLoadsAsAFloatWalk(t *testing.T) {
	// files written before the default became int8 name no quantize and
	// hold no codes: they load as "none", not as an index missing its codes
	const d = 128
	base, queries := baseAndQueries(3, 300, 5, d)
	h := build(t, metric.L2, d, base, Params{Quantize: "none"})
	h.p.Quantize = "" // what such a file's meta says (the field is omitempty)
	var buf bytes.Buffer
	if err := h.Save(&buf); err != nil {
		t.Fatal(err)
	}
	g, err := index.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if q := g.(*HNSW).Params().Quantize; q != "none" || g.(*HNSW).quant != nil {
		t.Fatalf("loaded quantize %q, codes %v", q, g.(*HNSW).quant != nil)
	}
	h.p.Quantize = "none"
	a, _ := search(t, h, queries, 5, nil)
	b, _ := search(t, g, queries, 5, nil)
	if !slices.Equal(a, b) {
		t.Fatalf("reloaded index finds %v, original %v", b, a)
	}
}

func TestHNSW_DefaultInt8WalkReRanksEnoughForExactTopK(t *testing.T) {
	// the default walk ranks its best 2k+10 candidates again on float32:
	// the results match an exact search (distances to float rounding) and
	// a k beyond that depth still gets k results
	const d, nq = 64, 50
	base, queries := baseAndQueries(21, scaled(3000), nq, d)
	h := build(t, metric.L2, d, base, Params{})
	if h.quant == nil {
		t.Fatal("default l2 64-d walk is not on codes")
	}
	ex := exactIndex(t, metric.L2, d, base)
	for _, k := range []int{1, 10, 80} {
		got, gotD := search(t, h, queries, k, &index.SearchParams{Ef: 200})
		want, wantD := search(t, ex, queries, k, nil)
		if r := recall(got, want, k); r < 0.97 {
			t.Errorf("k %d: recall %.3f", k, r)
		}
		for i := range got {
			if got[i] < 0 {
				t.Fatalf("k %d: row %d padded", k, i)
			}
			if got[i] == want[i] && abs(gotD[i]-wantD[i]) > 1e-4*(1+wantD[i]) {
				t.Fatalf("k %d: distance %v, exact %v", k, gotD[i], wantD[i])
			}
		}
	}
}

func TestHNSW_CountDistancesCountsWalksAndReRanks(t *testing.T) {
	const d = 64
	base, queries := baseAndQueries(5, 2000, 20, d)
	codes := build(t, metric.L2, d, base, Params{})
	plain := build(t, metric.L2, d, base, Params{Quantize: "none"})
	CountDistances(true)
	search(t, codes, queries, 10, &index.SearchParams{Ef: 64})
	walk, rerank := CountDistances(false)
	if walk < 20*64 || rerank != 20*30 { // every query re-ranks its best 2k+10
		t.Fatalf("code walk: %d walk distances, %d re-ranks for 20 queries", walk, rerank)
	}
	CountDistances(true)
	search(t, plain, queries, 10, &index.SearchParams{Ef: 64})
	walk, rerank = CountDistances(false)
	if walk < 20*64 || rerank != 0 {
		t.Fatalf("float walk: %d walk distances, %d re-ranks", walk, rerank)
	}
	before := countWalk.Load()
	search(t, plain, queries, 10, nil) // counters off: nothing counted
	if countWalk.Load() != before {
		t.Fatalf("counted while off")
	}
}
