package store

import (
	"context"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
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

// Hits is the result of Search: per query, its records nearest first
// (fewer than k when fewer match).
type Hits struct {
	Keys    [][]string  `json:"ids"`
	Dists   [][]float32 `json:"distances"`
	Docs    [][]*string `json:"documents,omitempty"`
	Metas   [][]Meta    `json:"metadatas,omitempty"`
	Vectors [][]float32 `json:"-"`
}

// Search finds the k nearest records of each query (len(queries)/dim of
// them) among those where and whereDoc match; the filter is applied inside
// the index search, so k results come back whenever k records match.
func (s *Store) Search(ctx context.Context, queries []float32, k int, where, whereDoc any, ef int, inc Include) (*Hits, error) {
	d := s.cfg.Dim
	nq, err := index.Rows(queries, d, "queries")
	if err != nil {
		return nil, err
	}
	if err := index.CheckK(k); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errs.Closed
	}
	p := &index.SearchParams{Ef: ef}
	if where != nil || whereDoc != nil {
		ids, err := s.matchingLocked(where, whereDoc)
		if err != nil {
			return nil, err
		}
		p.Filter = &index.Filter{IDs: ids}
	}
	outIDs := make([]int64, nq*k)
	outDist := make([]float32, nq*k)
	if err := s.idx.Search(ctx, queries, k, p, outIDs, outDist); err != nil {
		return nil, err
	}
	h := &Hits{}
	for q := 0; q < nq; q++ {
		var ids []int64
		var dist []float32
		for j := 0; j < k; j++ {
			if id := outIDs[q*k+j]; id >= 0 {
				ids = append(ids, id)
				dist = append(dist, outDist[q*k+j])
			}
		}
		r := s.rowsOf(ids, inc)
		h.Keys = append(h.Keys, r.Keys)
		if dist == nil {
			dist = []float32{}
		}
		h.Dists = append(h.Dists, dist)
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
	return h, nil
}
