package text

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/oxvec/oxvec/core/errs"
)

// Index is an inverted index over documents numbered by the caller (the
// store's internal ids). It is not synchronised: the owner serialises
// writers against readers; any number of Search calls may run at once.
//
// Memory: 8 bytes per (term, document) pair plus 4 per document id; the
// terms of a document are not kept, so Remove takes the document's text
// again and re-analyses it.
//
// A term whose last document is removed is forgotten (its id, its entry in
// termID and the words as written that led to it go), so the vocabulary
// follows the documents indexed now, not every word ever added: a store
// whose records churn (unique ids or numbers in their text) stays bounded.
type Index struct {
	words    map[string]int32 // word as written -> term id, -1: no term (stop word)
	scratch  []int32          // one document's term ids
	termID   map[string]uint32
	postings [][]posting // by term id, in no particular order
	terms    []string    // by term id: the term, "" for a free id
	forms    [][]string  // by term id: the words in words that lead to it
	free     []uint32    // term ids without documents, for reuse
	docLen   []uint32    // terms per document id; 0: not indexed
	docs     int         // documents indexed
	totalLen int64       // sum of docLen
}

type posting struct {
	doc uint32
	tf  uint32
}

// New returns an empty index.
func New() *Index { return &Index{termID: map[string]uint32{}, words: map[string]int32{}} }

// Len returns the number of documents indexed.
func (x *Index) Len() int { return x.docs }

// Add indexes text as document id. A document with no terms (empty, or
// only stop words) is not indexed. id must not be indexed already.
func (x *Index) Add(id int64, text string) error {
	if id < 0 || id >= math.MaxUint32 {
		return fmt.Errorf("%w: document id %d out of range", errs.InvalidArgument, id)
	}
	if int(id) < len(x.docLen) && x.docLen[id] != 0 {
		return fmt.Errorf("%w: document %d is indexed already", errs.Internal, id)
	}
	ids := x.termIDs(text, true)
	if len(ids) == 0 {
		return nil
	}
	for int(id) >= len(x.docLen) {
		x.docLen = append(x.docLen, 0)
	}
	eachCount(ids, func(t int32, tf uint32) {
		x.postings[t] = append(x.postings[t], posting{uint32(id), tf})
	})
	x.docLen[id] = uint32(len(ids))
	x.docs++
	x.totalLen += int64(len(ids))
	return nil
}

// termIDs returns the term ids of text's terms, in x.scratch (valid until
// the next call). Words are looked up as written first: analysing (folding,
// stemming) each distinct word once made rebuilding an index on reopen 4x
// faster. create adds unknown terms; otherwise they are left out.
func (x *Index) termIDs(text string, create bool) []int32 {
	ids := x.scratch[:0]
	eachWord(text, func(w string) {
		id, ok := x.words[w]
		if !ok {
			id = -1
			if t := term(w); t != "" {
				tid, known := x.termID[t]
				if !known && !create {
					return
				}
				if !known {
					tid = x.newTerm(t)
				}
				id = int32(tid)
			}
			w = strings.Clone(w)
			x.words[w] = id
			if id >= 0 {
				x.forms[id] = append(x.forms[id], w)
			}
		}
		if id >= 0 {
			ids = append(ids, id)
		}
	})
	x.scratch = ids
	return ids
}

// newTerm gives term t an id, a freed one first.
func (x *Index) newTerm(t string) uint32 {
	var tid uint32
	if k := len(x.free); k > 0 {
		tid, x.free = x.free[k-1], x.free[:k-1]
		x.terms[tid] = t
	} else {
		tid = uint32(len(x.postings))
		x.postings = append(x.postings, nil)
		x.terms = append(x.terms, t)
		x.forms = append(x.forms, nil)
	}
	x.termID[t] = tid
	return tid
}

// dropTerm forgets term id t, which no document holds any more.
func (x *Index) dropTerm(t int32) {
	for _, w := range x.forms[t] {
		delete(x.words, w)
	}
	delete(x.termID, x.terms[t])
	x.forms[t], x.terms[t], x.postings[t] = nil, "", nil
	x.free = append(x.free, uint32(t))
}

// eachCount calls fn once per distinct id with its count; ids is sorted.
func eachCount(ids []int32, fn func(id int32, n uint32)) {
	slices.Sort(ids)
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j] == ids[i] {
			j++
		}
		fn(ids[i], uint32(j-i))
		i = j
	}
}

// Remove drops document id, whose text must be the one it was added with.
func (x *Index) Remove(id int64, text string) {
	if id < 0 || int(id) >= len(x.docLen) || x.docLen[id] == 0 {
		return
	}
	eachCount(x.termIDs(text, false), func(t int32, _ uint32) {
		p := x.postings[t]
		for i := range p {
			if p[i].doc == uint32(id) {
				p[i] = p[len(p)-1]
				x.postings[t] = p[:len(p)-1]
				break
			}
		}
		if len(x.postings[t]) == 0 {
			x.dropTerm(t)
		}
	})
	x.totalLen -= int64(x.docLen[id])
	x.docLen[id] = 0
	x.docs--
}
