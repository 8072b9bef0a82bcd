package store

import (
	"slices"
	"testing"
)

func TestMMR_SelectTradesRelevanceForDiversity(t *testing.T) {
	// 1 and 2 are near-duplicates, the nearest to the query; 3 points elsewhere, still near it
	vecs := map[int64][]float32{1: {1, 0, 0}, 2: {1, 0.01, 0}, 3: {0, 0, 1}}
	vec := func(id int64) []float32 { return vecs[id] }
	q := []float32{1, 0, 0.5}
	ids := []int64{1, 2, 3}
	if got := mmrSelect(q, ids, vec, 2, 1); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("lambda 1 is relevance order: %v", got)
	}
	if got := mmrSelect(q, ids, vec, 2, 0.5); !slices.Equal(got, []int{0, 2}) {
		t.Fatalf("lambda 0.5 skips the near-duplicate: %v", got)
	}
	if got := mmrSelect(q, ids, vec, 9, 0.5); len(got) != 3 {
		t.Fatalf("k beyond the candidates: %v", got)
	}
	if got := mmrSelect(q, nil, vec, 3, 0.5); got != nil {
		t.Fatalf("no candidates: %v", got)
	}
}

func TestMMR_InsideSearch(t *testing.T) {
	s := create(t, t.TempDir(), Options{Create: &Config{Dim: 4, Metric: "cosine"}})
	defer s.Close()
	b := Batch{Keys: []string{"a", "a2", "c", "far"},
		Vectors: []float32{1, 0, 0, 0, 1, 0.01, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}}
	if err := s.Add(bg, b); err != nil {
		t.Fatal(err)
	}
	half := 0.5
	h, err := s.Search(bg, SearchRequest{Vectors: []float32{1, 0, 0.5, 0}, K: 2, Rank: Ranking{MMR: &MMR{FetchK: 3, Lambda: &half}}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(h.Keys[0], []string{"a", "c"}) || len(h.Dists[0]) != 2 || h.Dists[0][1] == nil {
		t.Fatalf("mmr: %v", h.Keys[0])
	}
	plain, _ := s.Search(bg, SearchRequest{Vectors: []float32{1, 0, 0.5, 0}, K: 2})
	if !slices.Equal(plain.Keys[0], []string{"a", "a2"}) {
		t.Fatalf("plain: %v", plain.Keys[0])
	}
	two := 2.0
	for _, bad := range []Ranking{{Mode: "keyword", MMR: &MMR{}}, {MMR: &MMR{FetchK: -1}}, {MMR: &MMR{Lambda: &two}}} {
		if _, err := s.Search(bg, SearchRequest{Vectors: []float32{1, 0, 0, 0}, Texts: []string{"x"}, K: 2, Rank: bad}); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
