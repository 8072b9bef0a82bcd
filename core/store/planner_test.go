package store

import (
	"math"
	"testing"
)

func TestPlanner_EveryPlanGivesTheFilteredAnswer(t *testing.T) {
	const d, k = 8, 10
	s, vecs := vectorsStore(t, 1500, d, `{"type":"hnsw","m":8,"ef_construction":40,"ef_search":200}`, Options{})
	metas := s.tab.metas
	filters := []struct {
		where any
		admit func(i int) bool
	}{
		{map[string]any{"g": int64(3)}, func(i int) bool { return i%10 == 3 }},
		{map[string]any{"u": map[string]any{"$lt": 0.004}}, func(i int) bool { return metas[i]["u"].(float64) < 0.004 }},
		{map[string]any{"u": map[string]any{"$gte": 0.3}}, func(i int) bool { return metas[i]["u"].(float64) >= 0.3 }},
	}
	for fi, f := range filters {
		for _, plan := range []string{"exact", "index_filter", "index_overfetch", ""} {
			for q := 0; q < 5; q++ {
				query := vecs[q*d : (q+1)*d]
				h, err := s.Search(bg, SearchRequest{Vectors: query, K: k, Where: f.where, Plan: plan})
				if err != nil {
					t.Fatal(err)
				}
				want := bruteForce(vecs, d, query, k, f.admit)
				if len(h.Keys[0]) != len(want) {
					t.Fatalf("filter %d plan %q: %d results, %d match", fi, plan, len(h.Keys[0]), len(want))
				}
				hit := 0
				truth := map[string]bool{}
				for _, w := range want {
					truth[w] = true
				}
				for _, key := range h.Keys[0] {
					if truth[key] {
						hit++
					}
					var i int
					for j := range key {
						i = i*10 + int(key[j]-'0')
					}
					if !f.admit(i) {
						t.Fatalf("filter %d plan %q returned %s, which the filter refuses", fi, plan, key)
					}
				}
				need := len(want) - 2 // the graph's at ef 200 nearly exact
				if plan == "exact" {
					need = len(want)
				}
				if hit < need {
					t.Fatalf("filter %d plan %q: %d of the true %d", fi, plan, hit, len(want))
				}
			}
		}
	}
}

func TestPlanner_OverfetchFallsBackWhenTheEstimateIsWrong(t *testing.T) {
	const d, k = 8, 10
	s, vecs := vectorsStore(t, 1500, d, `{"type":"hnsw","m":8,"ef_construction":40}`, Options{})
	// two correlated ranges: estimated as independent (~25%), they admit ~1%
	where := map[string]any{"$and": []any{
		map[string]any{"u": map[string]any{"$lt": 0.5}},
		map[string]any{"u": map[string]any{"$gte": 0.49}},
	}}
	ex, err := s.Explain(SearchRequest{K: k, Where: where})
	if err != nil || ex.Plan != "index_overfetch" {
		t.Fatalf("%+v %v (the test needs the planner to over-fetch)", ex, err)
	}
	h, err := s.Search(bg, SearchRequest{Vectors: vecs[:d], K: k, Where: where})
	if err != nil {
		t.Fatal(err)
	}
	metas := s.tab.metas
	want := bruteForce(vecs, d, vecs[:d], k, func(i int) bool { u := metas[i]["u"].(float64); return u < 0.5 && u >= 0.49 })
	if len(h.Keys[0]) != k || len(want) != k {
		t.Fatalf("%d results, want %d", len(h.Keys[0]), k)
	}
	// nothing matches: an empty answer, no error
	none := map[string]any{"$and": []any{map[string]any{"u": map[string]any{"$lt": 0.5}}, map[string]any{"u": map[string]any{"$gte": 0.5}}}}
	h, err = s.Search(bg, SearchRequest{Vectors: vecs[:d], K: k, Where: none, Plan: "index_overfetch"})
	if err != nil || len(h.Keys[0]) != 0 {
		t.Fatalf("%v %v", h.Keys, err)
	}
}

func TestPlanner_SelectivityEstimates(t *testing.T) {
	s, _ := vectorsStore(t, 5000, 4, `{"type":"flat"}`, Options{})
	cases := []struct {
		where any
		want  float64
		tol   float64
	}{
		{map[string]any{"g": int64(3)}, 0.1, 1e-9}, // counted exactly
		{map[string]any{"g": map[string]any{"$in": []any{int64(1), int64(2)}}}, 0.2, 1e-9},
		{map[string]any{"g": map[string]any{"$ne": int64(1)}}, 0.9, 1e-9},
		{map[string]any{"u": map[string]any{"$lt": 0.25}}, 0.25, 0.05}, // the histogram
		{map[string]any{"u": map[string]any{"$gte": 0.9}}, 0.1, 0.03},
		{map[string]any{"$or": []any{map[string]any{"g": int64(1)}, map[string]any{"g": int64(2)}}}, 0.19, 1e-9},
		{map[string]any{"missing": map[string]any{"$exists": true}}, 0, 1e-9},
	}
	for i, c := range cases {
		ex, err := s.Explain(SearchRequest{K: 10, Where: c.where})
		if err != nil {
			t.Fatal(err)
		}
		if got := ex.Estimates["selectivity"]; math.Abs(got-c.want) > c.tol {
			t.Errorf("case %d: selectivity %v, want %v +- %v", i, got, c.want, c.tol)
		}
	}
	if _, err := s.Explain(SearchRequest{K: 10, Where: map[string]any{"g": int64(1)}, Plan: "fastest"}); err == nil {
		t.Fatal("an unknown plan must be refused")
	}
	ex, _ := s.Explain(SearchRequest{K: 10})
	if ex.Plan != "unfiltered" {
		t.Fatalf("%+v", ex)
	}
}
