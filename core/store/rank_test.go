package store

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/oxvec/oxvec/core/text"
)

func TestFuse_RRFAddsReciprocalRanksPerSide(t *testing.T) {
	r, _ := Ranking{Mode: "hybrid", Weights: [2]float64{1, 2}}.withDefaults()
	got := fuse([]int64{10, 11, 12}, []float32{0.1, 0.2, 0.3}, []text.Hit{{ID: 12, Score: 5}, {ID: 13, Score: 4}}, r, 10)
	want := map[int64]float64{10: 1.0 / 61, 11: 1.0 / 62, 12: 1.0/63 + 2.0/61, 13: 2.0 / 62}
	if len(got) != 4 || got[0].id != 12 {
		t.Fatalf("got %+v", got)
	}
	for i, c := range got {
		if math.Abs(c.score-want[c.id]) > 1e-12 {
			t.Fatalf("id %d: score %g, want %g", c.id, c.score, want[c.id])
		}
		if i > 0 && c.score > got[i-1].score {
			t.Fatal("not sorted")
		}
	}
	if !got[0].hasDist || !got[0].hasKeyword || got[0].dist != 0.3 || got[0].bm25 != 5 {
		t.Fatalf("sub-scores of the record both sides found: %+v", got[0])
	}
	if c := got[slices.IndexFunc(got, func(c scored) bool { return c.id == 13 })]; c.hasDist || !c.hasKeyword {
		t.Fatalf("keyword-only record: %+v", c)
	}
	if top := fuse([]int64{10, 11, 12}, []float32{0.1, 0.2, 0.3}, nil, r, 2); len(top) != 2 || top[0].id != 10 {
		t.Fatalf("k=2: %+v", top)
	}
}

func TestFuse_ConvexNormalisesEachSide(t *testing.T) {
	for _, alpha := range []float64{0, 0.3, 1} {
		r, _ := Ranking{Mode: "hybrid", Fusion: "convex", Alpha: alpha}.withDefaults()
		got := fuse([]int64{1, 2, 3}, []float32{0, 1, 2}, []text.Hit{{ID: 3, Score: 8}, {ID: 4, Score: 2}}, r, 10)
		// vector: -d min-max -> 1, 0.5, 0; keyword: 1, 0; missing -> 0
		want := map[int64]float64{1: alpha, 2: alpha * 0.5, 3: 1 - alpha, 4: 0}
		for _, c := range got {
			if math.Abs(c.score-want[c.id]) > 1e-12 {
				t.Fatalf("alpha %g id %d: %g, want %g", alpha, c.id, c.score, want[c.id])
			}
		}
	}
	r, _ := Ranking{Mode: "hybrid", Fusion: "convex", Normalize: "zscore", Alpha: 0.5}.withDefaults()
	got := fuse([]int64{1, 2}, []float32{0, 2}, []text.Hit{{ID: 2, Score: 3}, {ID: 3, Score: 1}}, r, 10)
	// vector z: +1, -1; keyword z: +1, -1; a side's miss counts as its lowest, -1
	want := map[int64]float64{1: 0.5*1 + 0.5*-1, 2: 0.5*-1 + 0.5*1, 3: 0.5*-1 + 0.5*-1}
	for _, c := range got {
		if math.Abs(c.score-want[c.id]) > 1e-12 {
			t.Fatalf("zscore id %d: %g, want %g", c.id, c.score, want[c.id])
		}
	}
}

func TestRanking_RejectsBadOptions(t *testing.T) {
	for _, r := range []Ranking{{Mode: "semantic"}, {Fusion: "max"}, {Normalize: "l2"}, {Alpha: 1.5}, {RRFK: -1},
		{Weights: [2]float64{-1, 1}}, {K1: -1, B: 0.5}, {K1: 1, B: 2}, {Candidates: -3}} {
		if _, err := r.withDefaults(); err == nil {
			t.Errorf("%+v accepted", r)
		}
	}
}

func kwStore(t *testing.T, dir string) *Store {
	s := create(t, dir, Options{})
	docs := []string{
		"gzip.open reads and writes gzip-compressed files",
		"argparse parses command line arguments",
		"math.isclose compares two floats approximately",
		"zipfile reads ZIP archives",
		"shutil copies files and directories",
	}
	b := Batch{}
	for i, d := range docs {
		b.Keys = append(b.Keys, strings.Fields(d)[0])
		b.Vectors = append(b.Vectors, float32(i), 0, 0, 0)
		b.Docs = append(b.Docs, strp(d))
		b.Metas = append(b.Metas, Meta{"i": int64(i)})
	}
	if err := s.Add(bg, b); err != nil {
		t.Fatal(err)
	}
	return s
}

func keyword(t *testing.T, s *Store, q string, k int, where any) []string {
	t.Helper()
	h, err := s.Search(bg, SearchRequest{Texts: []string{q}, K: k, Where: where, Rank: Ranking{Mode: "keyword"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, kw := range h.Keyword[0] {
		if kw == nil || float64(*kw) != h.Scores[0][i] || h.Dists[0][i] != nil {
			t.Fatalf("keyword result %d: score %v, keyword score %v, distance %v", i, h.Scores[0][i], kw, h.Dists[0][i])
		}
	}
	return h.Keys[0]
}

func TestStore_KeywordSearchFollowsWritesAndReopen(t *testing.T) {
	dir := t.TempDir()
	s := kwStore(t, dir)
	if got := keyword(t, s, "how do I read a gzip compressed file", 3, nil); got[0] != "gzip.open" {
		t.Fatalf("gzip query: %v", got)
	}
	if got := keyword(t, s, "reads files", 5, map[string]any{"i": map[string]any{"$gte": int64(3)}}); !slices.Equal(got, []string{"zipfile", "shutil"}) {
		t.Fatalf("filtered: %v", got)
	}
	if err := s.Update(bg, Batch{Keys: []string{"zipfile"}, Docs: []*string{strp("tarfile handles tar archives")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(bg, []string{"argparse"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		if got := keyword(t, s, "ZIP", 5, nil); len(got) != 0 {
			t.Fatalf("%s: replaced document still found: %v", when, got)
		}
		if got := keyword(t, s, "tar archives", 5, nil); !slices.Equal(got, []string{"zipfile"}) {
			t.Fatalf("%s: new document: %v", when, got)
		}
		if got := keyword(t, s, "command line", 5, nil); len(got) != 0 {
			t.Fatalf("%s: deleted document found: %v", when, got)
		}
	}
	check("live")
	s.Close() // the WAL is small: reopen replays it
	s = create(t, dir, Options{})
	check("after WAL replay")
	if err := s.Snapshot(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = create(t, dir, Options{})
	defer s.Close()
	check("after snapshot")
}

func TestStore_HybridCarriesBothSubScores(t *testing.T) {
	s := kwStore(t, t.TempDir())
	defer s.Close()
	// the vector (4,0,0,0) is shutil's; the text names gzip
	h, err := s.Search(bg, SearchRequest{Vectors: []float32{4, 0, 0, 0}, Texts: []string{"gzip"}, K: 5, Rank: Ranking{Mode: "hybrid"}})
	if err != nil {
		t.Fatal(err)
	}
	keys, dist, kw := h.Keys[0], h.Dists[0], h.Keyword[0]
	if len(keys) != 5 {
		t.Fatalf("%v", keys)
	}
	g := slices.Index(keys, "gzip.open")
	if keys[0] != "shutil" && keys[0] != "gzip.open" || g < 0 || kw[g] == nil || dist[g] == nil || *dist[g] != 16 {
		t.Fatalf("hybrid: %v %v %v", keys, dist, kw)
	}
	if i := slices.Index(keys, "shutil"); kw[i] != nil || *dist[i] != 0 {
		t.Fatal("shutil has no keyword score and distance 0")
	}
	for _, bad := range []SearchRequest{
		{Vectors: []float32{4, 0, 0, 0}, K: 5, Rank: Ranking{Mode: "hybrid"}},
		{Texts: []string{"x"}, K: 5},
		{Vectors: []float32{4, 0, 0, 0}, Texts: []string{"x"}, K: 5, Rank: Ranking{Mode: "keyword"}},
	} {
		if _, err := s.Search(bg, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestStore_HugeKCostsTheRecords: a k (or hybrid candidates) far beyond the
// 5 records sizes nothing by k: every mode returns the records that match
// and allocates about nothing (a buffer of nq*k results would be 12 TB).
func TestStore_HugeKCostsTheRecords(t *testing.T) {
	s := kwStore(t, t.TempDir())
	defer s.Close()
	const huge = 1 << 40
	q := []float32{1, 0, 0, 0, 3, 0, 0, 0}
	for _, c := range []struct {
		req  SearchRequest
		want []int // results per query
	}{
		{SearchRequest{Vectors: q, K: huge}, []int{5, 5}},
		{SearchRequest{Vectors: q, K: huge, Where: map[string]any{"i": map[string]any{"$gte": int64(3)}}}, []int{2, 2}},
		{SearchRequest{Vectors: q, K: huge, Where: map[string]any{"i": int64(99)}}, []int{0, 0}},
		{SearchRequest{Texts: []string{"files", "zip"}, K: huge, Rank: Ranking{Mode: "keyword"}}, []int{2, 1}},
		{SearchRequest{Vectors: q, Texts: []string{"files", "zip"}, K: 2, Rank: Ranking{Mode: "hybrid", Candidates: huge}}, []int{2, 2}},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		h, err := s.Search(bg, c.req)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		for i, keys := range h.Keys {
			if len(keys) != c.want[i] {
				t.Errorf("%+v: query %d got %v, want %d results", c.req, i, keys, c.want[i])
			}
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
			t.Errorf("%+v allocated %d bytes", c.req, got)
		}
	}
}
