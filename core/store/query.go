package store

import (
	"context"
	"fmt"
	"time"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/monitor"
	"github.com/oxvec/oxvec/core/text"
)

// Include says which fields a read returns beside ids (and distances).
type Include struct {
	Documents  bool `json:"documents"`
	Metadatas  bool `json:"metadatas"`
	Embeddings bool `json:"embeddings"`
}

// Rows is the result of Get: one entry per record found.
type Rows struct {
	Keys    []string  `json:"ids"`
	Docs    []*string `json:"documents,omitempty"`
	Metas   []Meta    `json:"metadatas,omitempty"`
	Vectors []float32 `json:"-"` // len(Keys)*dim, when asked for
}

func (s *Store) rowsOf(ids []int64, inc Include) *Rows {
	r := &Rows{Keys: make([]string, 0, len(ids))}
	for _, id := range ids {
		r.Keys = append(r.Keys, s.tab.keys[id])
		if inc.Documents {
			var doc *string
			if s.tab.hasDoc[id] {
				d := s.tab.docs[id]
				doc = &d
			}
			r.Docs = append(r.Docs, doc)
		}
		if inc.Metadatas {
			r.Metas = append(r.Metas, s.tab.metas[id])
		}
		if inc.Embeddings {
			r.Vectors = append(r.Vectors, s.tab.vec(id)...)
		}
	}
	if inc.Documents && r.Docs == nil {
		r.Docs = []*string{}
	}
	if inc.Metadatas && r.Metas == nil {
		r.Metas = []Meta{}
	}
	return r
}

// Get returns records by key (in the order given, unknown keys skipped) or,
// without keys, every record (in insertion order, ids reused after deletes
// aside); where and whereDoc filter both; offset and limit page (limit <= 0:
// no limit).
func (s *Store) Get(keys []string, where, whereDoc any, limit, offset int, inc Include) (*Rows, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errs.Closed
	}
	var ids []int64
	if keys != nil {
		var allowed map[int64]bool
		if where != nil || whereDoc != nil {
			m, err := s.matchingLocked(where, whereDoc)
			if err != nil {
				return nil, err
			}
			allowed = make(map[int64]bool, len(m))
			for _, id := range m {
				allowed[id] = true
			}
		}
		for _, k := range keys {
			if id, ok := s.tab.byKey[k]; ok && (allowed == nil || allowed[id]) {
				ids = append(ids, id)
			}
		}
	} else {
		var err error
		if ids, err = s.matchingLocked(where, whereDoc); err != nil {
			return nil, err
		}
	}
	if offset < 0 {
		return nil, fmt.Errorf("%w: offset must be >= 0", errs.InvalidArgument)
	}
	if offset > len(ids) {
		offset = len(ids)
	}
	ids = ids[offset:]
	if limit > 0 && limit < len(ids) {
		ids = ids[:limit]
	}
	return s.rowsOf(ids, inc), nil
}

// Hits is the result of Search: per query, its records best first (fewer
// than k when fewer match). Distances come from the vector side and are
// null for a hybrid result the vector side did not return; keyword scores
// (BM25) likewise; scores are what the ranking sorted on (vector mode:
// absent, keyword mode: BM25, hybrid: the fused score).
type Hits struct {
	Keys     [][]string   `json:"ids"`
	Dists    [][]*float32 `json:"distances"`
	Keyword  [][]*float32 `json:"keyword_scores,omitempty"`
	Scores   [][]float64  `json:"scores,omitempty"`
	Docs     [][]*string  `json:"documents,omitempty"`
	Metas    [][]Meta     `json:"metadatas,omitempty"`
	Vectors  [][]float32  `json:"-"`
	rankMode string
}

// SearchRequest is one batch of queries: vectors (len/dim of them) for the
// vector and hybrid modes, texts (one per query) for keyword and hybrid.
type SearchRequest struct {
	Vectors  []float32
	Texts    []string
	K        int
	Where    any
	WhereDoc any
	Ef       int
	Include  Include
	Rank     Ranking
	// Plan forces a plan of a filtered search ("exact", "index_filter",
	// "index_overfetch"); "" lets the planner choose (planner.go).
	Plan string
}

// Search ranks the records where and whereDoc match for each query. The
// filter is applied inside both searches (an allow-list), so k results come
// back whenever k matching records exist (keyword mode: k matching records
// sharing a term with the query).
func (s *Store) Search(ctx context.Context, req SearchRequest) (*Hits, error) {
	t0 := s.mon.Start()
	h, err := s.search(ctx, req)
	s.mon.Done(monitor.Search, t0, err)
	return h, err
}

func (s *Store) search(ctx context.Context, req SearchRequest) (*Hits, error) {
	r, err := req.Rank.withDefaults()
	if err != nil {
		return nil, err
	}
	nq, err := s.queryCount(req, r.Mode)
	if err != nil {
		return nil, err
	}
	k := req.K
	if err := index.CheckK(k); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errs.Closed
	}
	if err := index.CheckKnobs(s.idx, &index.SearchParams{Ef: req.Ef}); err != nil {
		return nil, err // ef for a flat store, say: refused, not ignored
	}
	var key string
	if s.cache != nil {
		// the change number is read under the same lock as the search:
		// an answer is served only for the collection it was computed on
		now := time.Now()
		if key = cacheKey(req, r); key != "" {
			if h := s.cache.get(key, s.lastSeq, now); h != nil {
				s.mon.CacheHits.Add(1)
				return h, nil
			}
			s.mon.CacheMisses.Add(1)
		}
	}
	h, err := s.searchLocked(ctx, req, r, nq, k)
	if err == nil && key != "" {
		s.cache.put(key, s.lastSeq, h, time.Now())
	}
	return h, err
}

// searchLocked runs a search; the caller holds mu (shared).
func (s *Store) searchLocked(ctx context.Context, req SearchRequest, r Ranking, nq, k int) (*Hits, error) {
	var err error
	filtered := req.Where != nil || req.WhereDoc != nil
	pw, dp, err := parseFilters(req.Where, req.WhereDoc)
	if err != nil {
		return nil, err
	}
	ch, err := s.choose(pw, dp, k, req.Ef, r.Mode, req.Plan)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errs.InvalidArgument, err)
	}
	if r.Mode == "keyword" && ch.plan == planExact {
		ch.plan = planFilter
	}
	var allowed []int64
	if filtered && ch.plan != planOverfetch {
		allowed = s.matchingPreds(pw, dp)
	}
	per := k // results taken from each side
	if r.MMR != nil {
		per = r.MMR.fetch(k) // candidates MMR chooses k of
	}
	if r.Mode == "hybrid" {
		per = max(k, 100)
		if r.Candidates > 0 {
			per = max(k, r.Candidates)
		}
	}
	// no side returns more than the records it may rank, so a k far beyond
	// them costs nothing (results are lists: nothing is padded)
	ranked := s.tab.live()
	if allowed != nil || (filtered && ch.plan != planOverfetch) {
		ranked = min(ranked, len(allowed))
	}
	per = index.Results(per, ranked)
	var vids []int64
	var vdist []float32
	if r.Mode != "keyword" && per == 0 {
		// nothing to rank, but bad queries are still refused
		if err := index.CheckFinite(req.Vectors, s.cfg.Dim, "queries"); err != nil {
			return nil, err
		}
	}
	if r.Mode != "keyword" && per > 0 {
		if err := index.CheckMemory(int64(nq) * int64(max(per, ch.fetch)) * 12); err != nil {
			return nil, err
		}
		vids, vdist = make([]int64, nq*per), make([]float32, nq*per)
		short := false
		switch ch.plan {
		case planExact:
			err = s.searchExact(ctx, req.Vectors, allowed, per, vids, vdist)
		case planOverfetch:
			short, err = s.searchOverfetch(ctx, req, pw, dp, ch.fetch, per, vids, vdist)
		default:
			err = s.searchIndex(ctx, req, allowed, filtered, per, vids, vdist)
		}
		if err != nil {
			return nil, err
		}
		if short {
			// fewer than per passed the filter among what was fetched:
			// the estimate was off, so run it as the filtered search
			ch.plan = planFilter
			allowed = s.matchingPreds(pw, dp)
			per = index.Results(per, len(allowed))
			vids, vdist = vids[:nq*per], vdist[:nq*per]
			if per > 0 {
				if err := s.searchIndex(ctx, req, allowed, true, per, vids, vdist); err != nil {
					return nil, err
				}
			}
		}
		if r.Mode == "vector" && r.MMR == nil && nq > 0 && per > 0 && s.mon.SampleRecall(time.Now()) {
			s.offerSample(s.sampleOf(req, vids[:per], per))
		}
	}
	s.plans[ch.plan].Add(1)
	var allow text.Allow
	if filtered && r.Mode != "vector" {
		allow = text.NewAllow(allowed, len(s.tab.keys))
	}
	bm := text.Params{K1: r.K1, B: r.B}
	h := &Hits{rankMode: r.Mode}
	for q := 0; q < nq; q++ {
		if err := ctx.Err(); err != nil {
			return nil, errs.Canceled
		}
		var ids []int64
		var dist []float32
		if vids != nil {
			for j := q * per; j < (q+1)*per && vids[j] >= 0; j++ {
				ids, dist = append(ids, vids[j]), append(dist, vdist[j])
			}
		}
		var res []scored
		switch r.Mode {
		case "vector":
			if r.MMR != nil {
				d := s.cfg.Dim
				for _, i := range mmrSelect(req.Vectors[q*d:(q+1)*d], ids, s.tab.vec, k, *r.MMR.Lambda) {
					res = append(res, scored{id: ids[i], dist: dist[i], hasDist: true})
				}
				break
			}
			for i, id := range ids {
				res = append(res, scored{id: id, dist: dist[i], hasDist: true})
			}
		case "keyword":
			for _, t := range s.tab.kw.Search(req.Texts[q], k, bm, allow) {
				res = append(res, scored{id: t.ID, score: float64(t.Score), bm25: t.Score, hasKeyword: true})
			}
		default:
			res = fuse(ids, dist, s.tab.kw.Search(req.Texts[q], per, bm, allow), r, k)
		}
		h.add(s, res, req.Include)
	}
	return h, nil
}

// queryCount checks that the request carries what its mode needs.
func (s *Store) queryCount(req SearchRequest, mode string) (int, error) {
	nv, nt := 0, len(req.Texts)
	if req.Vectors != nil || mode != "keyword" {
		var err error
		if nv, err = index.Rows(req.Vectors, s.cfg.Dim, "queries"); err != nil {
			return 0, err
		}
	}
	switch {
	case mode == "vector" && req.Texts != nil:
		return 0, fmt.Errorf("%w: a vector search takes query vectors, not texts (use mode \"keyword\" or \"hybrid\")", errs.InvalidArgument)
	case mode == "keyword" && req.Vectors != nil:
		return 0, fmt.Errorf("%w: a keyword search takes query texts, not vectors", errs.InvalidArgument)
	case mode == "keyword":
		return nt, nil
	case mode == "hybrid" && nv != nt:
		return 0, fmt.Errorf("%w: a hybrid search needs one text per query vector (%d vectors, %d texts)", errs.InvalidArgument, nv, nt)
	}
	return nv, nil
}

// add appends one query's results.
func (h *Hits) add(s *Store, res []scored, inc Include) {
	ids := make([]int64, len(res))
	dist := make([]*float32, len(res))
	var kw []*float32
	var sc []float64
	for i, c := range res {
		ids[i] = c.id
		if c.hasDist {
			dist[i] = &c.dist
		}
		if h.rankMode != "vector" {
			if c.hasKeyword {
				kw = append(kw, &c.bm25)
			} else {
				kw = append(kw, nil)
			}
			sc = append(sc, c.score)
		}
	}
	r := s.rowsOf(ids, inc)
	h.Keys = append(h.Keys, r.Keys)
	h.Dists = append(h.Dists, dist)
	if h.rankMode != "vector" {
		if kw == nil {
			kw, sc = []*float32{}, []float64{}
		}
		h.Keyword = append(h.Keyword, kw)
		h.Scores = append(h.Scores, sc)
	}
	if inc.Documents {
		h.Docs = append(h.Docs, r.Docs)
	}
	if inc.Metadatas {
		h.Metas = append(h.Metas, r.Metas)
	}
	if inc.Embeddings {
		h.Vectors = append(h.Vectors, r.Vectors)
	}
}
