package store

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

// The planner chooses how a filtered vector search runs, per search, from
// the collection's size, the filter's estimated selectivity
// (selectivity.go) and a cost model of the index type, in nanoseconds:
//
//   - exact: list the records the filter admits and rank them exactly by
//     the vectors of the table. Costs the filter's evaluation (over the
//     equality index's candidates, or over every record) plus one distance
//     per admitted record. Exact, so its recall is 1.
//   - index_filter: list the admitted records and let the index search with
//     them as an allow-list (the path every filtered search took before the
//     planner). An HNSW walk that may only return admitted nodes visits
//     about ef x links / selectivity nodes to fill its list.
//   - index_overfetch: search the index without the filter for
//     fetch = k / selectivity x 2 results, then keep the first k the filter
//     admits, testing only those candidates - no pass over the collection.
//     When fewer than k pass (the estimate was wrong) the search runs again
//     as index_filter, so the answer is never short.
//
// Keyword and hybrid searches rank BM25 over the admitted records too, so
// they always list them (index_filter). The constants are what this
// engine's kernels cost on a 2020s x86 core; they order the plans, they do
// not predict times.

// plan is how one search runs.
type plan int

const (
	planUnfiltered plan = iota // no filter: the index searches everything
	planExact                  // exact scan of the records the filter allows
	planFilter                 // index search with the filter inside
	planOverfetch              // index search for more, then the filter on the results
	nPlans
)

var planNames = [nPlans]string{"unfiltered", "exact", "index_filter", "index_overfetch"}

const (
	nsPerDim       = 0.12 // one distance: per dimension (SIMD)
	nsPerPredicate = 60.0 // one filter evaluation on one record's metadata
	nsPerAllowed   = 8.0  // listing one admitted id, and its bit in the index's set
	graphLinksCost = 1.6  // an HNSW step reads scattered memory: dearer than a scan
	overfetchSlack = 2.0  // fetch this many times k / selectivity
	minOverfetch   = 0.02 // below this selectivity over-fetching fetches too much
	hnswScanBelow  = 4096 // an HNSW filter admitting fewer nodes is scanned (core/hnsw)
)

// indexModel is what the cost model knows of the store's index.
type indexModel struct {
	kind     string // "flat", "hnsw", or another type
	m        int    // HNSW links per node
	efSearch int    // HNSW default ef
}

// modelOf reads the index spec once, at open.
func modelOf(cfg Config) indexModel {
	var spec struct {
		Type     string `json:"type"`
		M        int    `json:"m"`
		EfSearch int    `json:"ef_search"`
	}
	json.Unmarshal(cfg.Index, &spec)
	m := indexModel{kind: orFlat(spec.Type), m: spec.M, efSearch: spec.EfSearch}
	if m.m <= 0 {
		m.m = 16
	}
	if m.efSearch <= 0 {
		m.efSearch = 100
	}
	return m
}

// Explain is how a search would run and why (store.explain in Python).
type Explain struct {
	Plan      string             `json:"plan"`
	Why       string             `json:"why"`
	Estimates map[string]float64 `json:"estimates"`
	Costs     map[string]float64 `json:"costs_ns,omitempty"` // per query, of each plan considered
	Index     string             `json:"index"`
	Fetch     int                `json:"fetch,omitempty"` // index_overfetch: results asked of the index
}

// choice is a planner decision.
type choice struct {
	plan  plan
	fetch int // index_overfetch: results to fetch
	ex    Explain
}

// choose plans a search of k results (per query) with predicates p, dp;
// the caller holds mu. forced, when not "", names the plan to take (tests
// and benchmarks compare fixed strategies with it).
func (s *Store) choose(p pred, dp docPred, k, ef int, mode string, forced string) (choice, error) {
	live := s.tab.live()
	kind := s.model.kind
	if s.phase() == "exact" {
		kind = "flat" // a trained type's exact phase searches a flat index
	}
	if forced != "" && forced != "exact" && forced != "index_filter" && forced != "index_overfetch" {
		return choice{}, fmt.Errorf("plan must be exact, index_filter or index_overfetch, not %q", forced)
	}
	if p == nil && dp == nil {
		// the common case allocates nothing
		return choice{plan: planUnfiltered, ex: Explain{Index: kind, Plan: planNames[planUnfiltered], Why: "no filter: the index searches every record"}}, nil
	}
	c := choice{ex: Explain{Index: kind, Estimates: map[string]float64{"records": float64(live)}, Costs: map[string]float64{}}}
	sel := s.selectivity(p, dp)
	admitted := sel * float64(live)
	c.ex.Estimates["selectivity"] = sel
	c.ex.Estimates["admitted"] = admitted
	d := float64(s.cfg.Dim)
	dist := nsPerDim * d
	// listing the admitted records: the equality index narrows the
	// records tested when the filter has an $eq or $in at its top
	tested := float64(live)
	if cands, ok := s.tab.eq.candidates(p); ok && dp == nil {
		tested = float64(len(cands))
	}
	c.ex.Estimates["tested"] = tested
	listing := tested*nsPerPredicate + admitted*nsPerAllowed
	costs := map[plan]float64{planExact: listing + admitted*dist}
	if ef <= 0 {
		ef = s.model.efSearch
	}
	efk := float64(max(ef, k))
	switch kind {
	case "flat":
		// the flat index's filtered search is the same scan
		costs[planFilter] = costs[planExact]
		costs[planOverfetch] = float64(live)*dist + overfetchSlack*float64(k)/math.Max(sel, 1e-9)*nsPerPredicate
	case "hnsw":
		walk := efk * float64(2*s.model.m) * dist * graphLinksCost
		if admitted <= hnswScanBelow {
			costs[planFilter] = listing + admitted*dist // the index scans them itself
		} else {
			costs[planFilter] = listing + walk/math.Max(sel, 1e-9)
		}
		fetch := overfetchSlack * float64(k) / math.Max(sel, 1e-9)
		costs[planOverfetch] = math.Max(fetch, efk)*float64(2*s.model.m)*dist*graphLinksCost + fetch*nsPerPredicate
	default:
		// another index type: its filtered search costs what the
		// unfiltered one does (a fraction of the collection, about a
		// tenth for IVF), and over-fetching is not modelled
		costs[planFilter] = listing + 0.1*float64(live)*dist
	}
	for pl, v := range costs {
		c.ex.Costs[planNames[pl]] = v
	}
	best := planExact
	for _, pl := range []plan{planFilter, planOverfetch} {
		if v, ok := costs[pl]; ok && v < costs[best] {
			best = pl
		}
	}
	why := ""
	switch {
	case mode != "vector":
		best, why = planFilter, mode+" search: BM25 ranks the admitted records too, so they are listed"
	case best == planOverfetch && (sel < minOverfetch || kind == "flat"):
		// too few would pass, or a flat scan gains nothing from it
		if costs[planFilter] < costs[planExact] {
			best = planFilter
		} else {
			best = planExact
		}
	}
	if forced != "" {
		fp := -1
		for i, n := range planNames {
			if n == forced && plan(i) != planUnfiltered {
				fp = i
			}
		}
		if fp < 0 {
			return c, fmt.Errorf("plan must be exact, index_filter or index_overfetch, not %q", forced)
		}
		best, why = plan(fp), "forced by the request"
	}
	if why == "" {
		why = fmt.Sprintf("filter admits about %.3g%% of %d records (~%.0f); estimated cost per query: %s", 100*sel, live, admitted, costLine(c.ex.Costs))
	}
	c.plan, c.ex.Plan, c.ex.Why = best, planNames[best], why
	if best == planOverfetch {
		c.fetch = min(int(math.Ceil(overfetchSlack*float64(k)/math.Max(sel, 1e-9))), live)
		c.fetch = max(c.fetch, k)
		c.ex.Fetch = c.fetch
	}
	return c, nil
}

func costLine(costs map[string]float64) string {
	out := ""
	for _, n := range planNames[1:] {
		if v, ok := costs[n]; ok {
			if out != "" {
				out += ", "
			}
			out += fmt.Sprintf("%s %.3g us", n, v/1e3)
		}
	}
	return out
}

// Explain says how Search would run req (its first query's plan) and why,
// without running it.
func (s *Store) Explain(req SearchRequest) (Explain, error) {
	r, err := req.Rank.withDefaults()
	if err != nil {
		return Explain{}, err
	}
	if err := index.CheckK(req.K); err != nil {
		return Explain{}, err
	}
	p, dp, err := parseFilters(req.Where, req.WhereDoc)
	if err != nil {
		return Explain{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return Explain{}, errs.Closed
	}
	c, err := s.choose(p, dp, req.K, req.Ef, r.Mode, req.Plan)
	if err != nil {
		return Explain{}, fmt.Errorf("%w: %v", errs.InvalidArgument, err)
	}
	if r.Mode == "keyword" {
		c.ex.Plan, c.ex.Why = "keyword", "keyword search: BM25 over the admitted records"
	}
	return c.ex, nil
}
