package store

import "github.com/oxvec/oxvec/core/text"

// table holds every record's key, document, metadata and the vector as the
// caller gave it, by internal id (the id the vector index knows). Freed ids
// are reused, lowest first after a reload.
type table struct {
	dim    int
	keys   []string // "" marks a free id
	docs   []string
	hasDoc []bool
	metas  []Meta
	vecs   []float32 // dim per id, as added (the index may hold a prepared form)
	byKey  map[string]int64
	free   []int64
	eq     eqIndex
	kw     *text.Index // BM25 over the documents, by the same ids
}

func newTable(dim int) *table {
	return &table{dim: dim, byKey: map[string]int64{}, eq: eqIndex{}, kw: text.New()}
}

func (t *table) live() int { return len(t.byKey) }

// alloc returns an id for a new record.
func (t *table) alloc() int64 {
	if n := len(t.free); n > 0 {
		id := t.free[n-1]
		t.free = t.free[:n-1]
		return id
	}
	id := int64(len(t.keys))
	t.keys = append(t.keys, "")
	t.docs = append(t.docs, "")
	t.hasDoc = append(t.hasDoc, false)
	t.metas = append(t.metas, nil)
	t.vecs = append(t.vecs, make([]float32, t.dim)...)
	return id
}

// liveVectors copies out the ids and vectors of every record, by id.
func (t *table) liveVectors() ([]int64, []float32) {
	ids := make([]int64, 0, t.live())
	vecs := make([]float32, 0, t.live()*t.dim)
	for id, k := range t.keys {
		if k != "" {
			ids = append(ids, int64(id))
			vecs = append(vecs, t.vec(int64(id))...)
		}
	}
	return ids, vecs
}

func (t *table) vec(id int64) []float32 { return t.vecs[id*int64(t.dim) : (id+1)*int64(t.dim)] }

// set stores a record's fields; nil doc or meta leave them unchanged when
// keep is true (update), clear them otherwise.
func (t *table) set(id int64, key string, vec []float32, doc *string, meta Meta, keep bool) {
	t.keys[id] = key
	t.byKey[key] = id
	if vec != nil {
		copy(t.vec(id), vec)
	}
	if doc != nil || !keep {
		if t.hasDoc[id] {
			t.kw.Remove(id, t.docs[id])
		}
		t.docs[id], t.hasDoc[id] = "", false
		if doc != nil {
			t.docs[id], t.hasDoc[id] = *doc, true
			t.kw.Add(id, *doc) // ids are below 2^32 and free here: cannot fail
		}
	}
	if meta != nil || !keep {
		t.eq.remove(id, t.metas[id])
		t.metas[id] = meta
		t.eq.add(id, meta)
	}
}

func (t *table) drop(id int64) {
	delete(t.byKey, t.keys[id])
	t.eq.remove(id, t.metas[id])
	if t.hasDoc[id] {
		t.kw.Remove(id, t.docs[id])
	}
	t.keys[id], t.docs[id], t.hasDoc[id], t.metas[id] = "", "", false, nil
	clear(t.vec(id))
	t.free = append(t.free, id)
}

// eqIndex maps field -> scalar value -> ids, for equality and $in filters
// on large collections.
type eqIndex map[string]map[string]map[int64]struct{}

func (x eqIndex) add(id int64, m Meta) {
	for field, v := range m {
		anyElem(v, func(e any) bool {
			if k, ok := indexKey(e); ok {
				byVal := x[field]
				if byVal == nil {
					byVal = map[string]map[int64]struct{}{}
					x[field] = byVal
				}
				ids := byVal[k]
				if ids == nil {
					ids = map[int64]struct{}{}
					byVal[k] = ids
				}
				ids[id] = struct{}{}
			}
			return false
		})
	}
}

func (x eqIndex) remove(id int64, m Meta) {
	for field, v := range m {
		anyElem(v, func(e any) bool {
			if k, ok := indexKey(e); ok {
				if ids := x[field][k]; ids != nil {
					delete(ids, id)
					if len(ids) == 0 {
						delete(x[field], k)
					}
				}
			}
			return false
		})
	}
}

// candidates returns the ids an equality or $in at the top of p (or inside
// a top-level $and) allows, and ok false when p has none to narrow by.
func (x eqIndex) candidates(p pred) (map[int64]struct{}, bool) {
	switch q := p.(type) {
	case fieldPred:
		switch q.op {
		case "$eq":
			k, ok := indexKey(q.arg)
			if !ok {
				return nil, false
			}
			return x[q.field][k], true
		case "$in":
			out := map[int64]struct{}{}
			for _, a := range q.args {
				k, ok := indexKey(a)
				if !ok {
					return nil, false
				}
				for id := range x[q.field][k] {
					out[id] = struct{}{}
				}
			}
			return out, true
		}
	case andPred:
		var best map[int64]struct{}
		found := false
		for _, sub := range q {
			if ids, ok := x.candidates(sub); ok && (!found || len(ids) < len(best)) {
				best, found = ids, true
			}
		}
		return best, found
	}
	return nil, false
}
