package store

import (
	"fmt"
	"math"
	"sort"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/text"
)

// Ranking says how a search ranks records: by vector distance, by BM25 over
// the documents, or by both fused.
type Ranking struct {
	Mode       string     `json:"mode"`       // "vector" (default), "keyword", "hybrid"
	Fusion     string     `json:"fusion"`     // hybrid: "rrf" (default) or "convex"
	RRFK       float64    `json:"rrf_k"`      // rrf: rank constant, default 60
	Weights    [2]float64 `json:"weights"`    // rrf: vector and keyword weights, default 1 and 1
	Alpha      float64    `json:"alpha"`      // convex: weight of the vector side, default 0.5
	Normalize  string     `json:"normalize"`  // convex: "minmax" (default) or "zscore"
	K1         float64    `json:"k1"`         // BM25, default 1.2
	B          float64    `json:"b"`          // BM25, default 0.75
	Candidates int        `json:"candidates"` // hybrid: results taken from each side, default max(k, 100)
	MMR        *MMR       `json:"mmr"`        // vector: maximal marginal relevance (mmr.go)
}

// withDefaults fills unset fields and checks the rest.
func (r Ranking) withDefaults() (Ranking, error) {
	bad := func(f string, a ...any) (Ranking, error) {
		return r, fmt.Errorf("%w: "+f, append([]any{errs.InvalidArgument}, a...)...)
	}
	if r.Mode == "" {
		r.Mode = "vector"
	}
	if r.Fusion == "" {
		r.Fusion = "rrf"
	}
	if r.Normalize == "" {
		r.Normalize = "minmax"
	}
	if r.RRFK == 0 {
		r.RRFK = 60
	}
	if r.Weights == [2]float64{} {
		r.Weights = [2]float64{1, 1}
	}
	if r.K1 == 0 && r.B == 0 {
		d := text.DefaultParams()
		r.K1, r.B = d.K1, d.B
	}
	switch {
	case r.Mode != "vector" && r.Mode != "keyword" && r.Mode != "hybrid":
		return bad("mode %q: use \"vector\", \"keyword\" or \"hybrid\"", r.Mode)
	case r.Fusion != "rrf" && r.Fusion != "convex":
		return bad("fusion %q: use \"rrf\" or \"convex\"", r.Fusion)
	case r.Normalize != "minmax" && r.Normalize != "zscore":
		return bad("normalize %q: use \"minmax\" or \"zscore\"", r.Normalize)
	case !(r.RRFK > 0):
		return bad("rrf_k must be > 0")
	case r.Weights[0] < 0 || r.Weights[1] < 0 || math.IsNaN(r.Weights[0]+r.Weights[1]):
		return bad("weights must be >= 0")
	case !(r.Alpha >= 0 && r.Alpha <= 1):
		return bad("alpha must be in [0, 1]")
	case !(r.K1 >= 0) || !(r.B >= 0 && r.B <= 1):
		return bad("BM25 needs k1 >= 0 and 0 <= b <= 1")
	case r.Candidates < 0:
		return bad("candidates must be >= 0")
	}
	m, err := r.MMR.withDefaults(r.Mode)
	if err != nil {
		return r, err
	}
	r.MMR = m
	return r, nil
}

// scored is one result of a ranked search with both sub-scores; a side
// that did not return the record has its has-flag false.
type scored struct {
	id         int64
	score      float64 // what the ranking sorts on, higher first
	dist       float32 // vector distance
	hasDist    bool
	bm25       float32
	hasKeyword bool
}

// fuse merges one query's vector results (nearest first) and keyword
// results (best first) into the k best by r.Fusion.
//
// RRF: sum over sides of weight / (rrf_k + rank), ranks from 1; a side
// that missed the record adds nothing. Convex: alpha*v + (1-alpha)*t with
// each side's scores (vector: -distance) normalised over its own results
// (min-max to [0, 1], or z-scores); a side that missed the record counts
// as its lowest normalised score.
func fuse(vids []int64, vdist []float32, kw []text.Hit, r Ranking, k int) []scored {
	byID := map[int64]*scored{}
	var all []*scored
	get := func(id int64) *scored {
		if c := byID[id]; c != nil {
			return c
		}
		c := &scored{id: id}
		byID[id] = c
		all = append(all, c)
		return c
	}
	for i, id := range vids {
		c := get(id)
		c.dist, c.hasDist = vdist[i], true
	}
	for _, h := range kw {
		c := get(h.ID)
		c.bm25, c.hasKeyword = h.Score, true
	}
	if r.Fusion == "rrf" {
		for rank, id := range vids {
			byID[id].score += r.Weights[0] / (r.RRFK + float64(rank+1))
		}
		for rank, h := range kw {
			byID[h.ID].score += r.Weights[1] / (r.RRFK + float64(rank+1))
		}
	} else {
		vs := make([]float64, len(vdist))
		for i, d := range vdist {
			vs[i] = -float64(d)
		}
		ks := make([]float64, len(kw))
		for i, h := range kw {
			ks[i] = float64(h.Score)
		}
		vn, vmiss := normScores(vs, r.Normalize)
		kn, kmiss := normScores(ks, r.Normalize)
		for _, c := range all {
			c.score = r.Alpha*vmiss + (1-r.Alpha)*kmiss
		}
		for i, id := range vids {
			byID[id].score += r.Alpha * (vn[i] - vmiss)
		}
		for i, h := range kw {
			byID[h.ID].score += (1 - r.Alpha) * (kn[i] - kmiss)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].score != all[j].score {
			return all[i].score > all[j].score
		}
		return all[i].id < all[j].id
	})
	out := make([]scored, 0, min(k, len(all)))
	for _, c := range all[:min(k, len(all))] {
		out = append(out, *c)
	}
	return out
}

// normScores maps xs to min-max [0, 1] or z-scores; it also returns the
// value a missing entry gets (the lowest normalised value; 0 when empty).
func normScores(xs []float64, how string) ([]float64, float64) {
	out := make([]float64, len(xs))
	if len(xs) == 0 {
		return out, 0
	}
	lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
	for _, x := range xs {
		lo, hi, sum = math.Min(lo, x), math.Max(hi, x), sum+x
	}
	if how == "minmax" {
		for i, x := range xs {
			if hi > lo {
				out[i] = (x - lo) / (hi - lo)
			} else {
				out[i] = 1 // one distinct value: every result is the best
			}
		}
		return out, 0
	}
	mean := sum / float64(len(xs))
	v := 0.0
	for _, x := range xs {
		v += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(v / float64(len(xs)))
	low := math.Inf(1)
	for i, x := range xs {
		if sd > 0 {
			out[i] = (x - mean) / sd
		}
		low = math.Min(low, out[i])
	}
	return out, low
}
