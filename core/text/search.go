package text

import (
	"container/heap"
	"math"
	"sync"
)

// Params are BM25's term-frequency saturation k1 and length normalisation
// b. The defaults are Lucene's and Elasticsearch's.
type Params struct {
	K1 float64
	B  float64
}

// DefaultParams returns k1 = 1.2, b = 0.75.
func DefaultParams() Params { return Params{K1: 1.2, B: 0.75} }

// Hit is one scored document.
type Hit struct {
	ID    int64
	Score float32
}

// Allow is a set of document ids a search may return; nil allows all.
type Allow []uint64

// NewAllow returns the set of ids (each below n).
func NewAllow(ids []int64, n int) Allow {
	a := make(Allow, (n+63)/64)
	for _, id := range ids {
		if id >= 0 && int(id) < n {
			a[id>>6] |= 1 << (id & 63)
		}
	}
	return a
}

func (a Allow) has(id uint32) bool {
	return a == nil || (int(id>>6) < len(a) && a[id>>6]&(1<<(id&63)) != 0)
}

// Search returns the k best documents for query by BM25, best first (ties
// by lower id); only documents sharing a term with the query score, so
// fewer than k may come back. The IDF is Lucene's,
// ln(1 + (N - df + 0.5) / (df + 0.5)), never negative. A term repeated in
// the query counts once per repetition.
func (x *Index) Search(query string, k int, p Params, allow Allow) []Hit {
	if k <= 0 || x.docs == 0 {
		return nil
	}
	acc := getAcc(len(x.docLen))
	defer putAcc(acc)
	n := float64(x.docs)
	avg := float64(x.totalLen) / n
	for _, term := range Terms(query, nil) {
		t, ok := x.termID[term]
		if !ok {
			continue
		}
		post := x.postings[t]
		idf := math.Log(1 + (n-float64(len(post))+0.5)/(float64(len(post))+0.5))
		// per-document: idf * tf*(k1+1) / (tf + k1*(1 - b + b*len/avg))
		base, slope := p.K1*(1-p.B), p.K1*p.B/avg
		for _, e := range post {
			if !allow.has(e.doc) {
				continue
			}
			tf := float64(e.tf)
			w := float32(idf * tf * (p.K1 + 1) / (tf + base + slope*float64(x.docLen[e.doc])))
			if acc.score[e.doc] == 0 {
				acc.touched = append(acc.touched, e.doc)
			}
			acc.score[e.doc] += w
		}
	}
	return acc.top(k)
}

// accumulator holds one search's per-document scores.
type accumulator struct {
	score   []float32
	touched []uint32
}

var accPool sync.Pool

func getAcc(n int) *accumulator {
	a, _ := accPool.Get().(*accumulator)
	if a == nil {
		a = &accumulator{}
	}
	if len(a.score) < n {
		a.score = make([]float32, n)
	}
	return a
}

func putAcc(a *accumulator) {
	for _, d := range a.touched {
		a.score[d] = 0
	}
	a.touched = a.touched[:0]
	accPool.Put(a)
}

func (a *accumulator) top(k int) []Hit {
	h := make(minHeap, 0, min(k, len(a.touched)))
	for _, d := range a.touched {
		hit := Hit{int64(d), a.score[d]}
		if len(h) < k {
			heap.Push(&h, hit)
		} else if worse(h[0], hit) {
			h[0] = hit
			heap.Fix(&h, 0)
		}
	}
	out := make([]Hit, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(Hit)
	}
	return out
}

// worse reports whether a ranks below b.
func worse(a, b Hit) bool {
	if a.Score != b.Score {
		return a.Score < b.Score
	}
	return a.ID > b.ID
}

type minHeap []Hit

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return worse(h[i], h[j]) }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(Hit)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
