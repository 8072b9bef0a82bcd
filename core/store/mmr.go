package store

import (
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
)

// MMR asks a vector search for maximal marginal relevance: the FetchK
// nearest records are fetched, then k of them chosen one at a time, each the
// candidate that maximises Lambda * sim(query, c) - (1 - Lambda) * max sim(c,
// chosen), sim being cosine similarity (LangChain's and Chroma's
// definition, whatever the store's metric). Lambda 1: plain relevance order;
// 0: most diverse.
type MMR struct {
	FetchK int      `json:"fetch_k"` // candidates, default max(k, 20)
	Lambda *float64 `json:"lambda"`  // default 0.5
}

// mmrDefaults checks an MMR request and fills its defaults.
func (m *MMR) withDefaults(mode string) (*MMR, error) {
	if m == nil {
		return nil, nil
	}
	out := *m
	if mode != "vector" {
		return nil, fmt.Errorf("%w: mmr applies to vector searches, not %q", errs.InvalidArgument, mode)
	}
	if out.FetchK < 0 {
		return nil, fmt.Errorf("%w: mmr fetch_k must be >= 0", errs.InvalidArgument)
	}
	if out.Lambda == nil {
		l := 0.5
		out.Lambda = &l
	}
	if l := *out.Lambda; !(l >= 0 && l <= 1) {
		return nil, fmt.Errorf("%w: mmr lambda must be in [0, 1], got %g", errs.InvalidArgument, l)
	}
	return &out, nil
}

// fetch is how many candidates an MMR search of k takes.
func (m *MMR) fetch(k int) int {
	if m.FetchK > 0 {
		return max(k, m.FetchK)
	}
	return max(k, 20)
}

// mmrSelect chooses k of the candidates (ids in distance order, their
// vectors from vec) for the query q; it returns positions into ids.
func mmrSelect(q []float32, ids []int64, vec func(int64) []float32, k int, lambda float64) []int {
	n := len(ids)
	if k > n {
		k = n
	}
	if k <= 0 {
		return nil
	}
	unit := func(v []float32) []float64 {
		u := make([]float64, len(v))
		var s float64
		for i, x := range v {
			u[i] = float64(x)
			s += u[i] * u[i]
		}
		if s > 0 {
			s = 1 / math.Sqrt(s)
			for i := range u {
				u[i] *= s
			}
		}
		return u
	}
	dot := func(a, b []float64) float64 {
		var s float64
		for i := range a {
			s += a[i] * b[i]
		}
		return s
	}
	qu := unit(q)
	cand := make([][]float64, n)
	rel := make([]float64, n)
	for i, id := range ids {
		cand[i] = unit(vec(id))
		rel[i] = dot(qu, cand[i])
	}
	redundancy := make([]float64, n) // max similarity to the chosen ones
	for i := range redundancy {
		redundancy[i] = math.Inf(-1)
	}
	chosen := make([]bool, n)
	out := make([]int, 0, k)
	for len(out) < k {
		best, bestScore := -1, math.Inf(-1)
		for i := 0; i < n; i++ {
			if chosen[i] {
				continue
			}
			score := rel[i]
			if len(out) > 0 {
				score = lambda*rel[i] - (1-lambda)*redundancy[i]
			}
			if score > bestScore {
				best, bestScore = i, score
			}
		}
		chosen[best] = true
		out = append(out, best)
		for i := 0; i < n; i++ {
			if !chosen[i] {
				redundancy[i] = max(redundancy[i], dot(cand[i], cand[best]))
			}
		}
	}
	return out
}
