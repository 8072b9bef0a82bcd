package store

import (
	"sort"
	"sync"
)

// Selectivity estimates: the share of records a filter admits, before
// anything is scanned. Equality and $in are counted exactly from the
// equality index (its id sets are the field's value counts); ranges, $exists
// and document filters are read from statistics over a sample of the
// records: for each field an equi-depth histogram of its values (the sorted
// sample values of the field, so every value is a bucket boundary), and the
// share of the sample holding it. The sample is rebuilt when a tenth of the
// collection has changed since it was taken. Conditions combine as if
// independent ($and multiplies, $or adds the complement's product, $not
// takes the complement).

// sampleSize is how many records the statistics read.
const sampleSize = 1024

// fieldStats is the histogram of one field over the sample.
type fieldStats struct {
	nums    []float64 // sorted numeric values (a list field adds each element)
	strs    []string  // sorted string values
	present int       // sample records holding the field
}

// sampleStats holds the current sample; a rebuild replaces it whole, so a
// search reading the old one meanwhile reads a consistent sample.
type sampleStats struct {
	mu  sync.Mutex
	cur *sample
}

type sample struct {
	seq     uint64 // the change the sample was taken at
	live    int
	ids     []int64
	mu      sync.Mutex // guards byField
	byField map[string]*fieldStats
}

// statsLocked returns the current sample, rebuilding it when stale; the
// caller holds mu (shared or exclusive).
func (s *Store) statsLocked() *sample {
	s.sample.mu.Lock()
	defer s.sample.mu.Unlock()
	live := s.tab.live()
	if c := s.sample.cur; c != nil && s.lastSeq-c.seq <= uint64(max(c.live/10, 16)) {
		return c
	}
	st := &sample{seq: s.lastSeq, live: live, byField: map[string]*fieldStats{}}
	if live > 0 {
		// evenly strided over the id space: a deterministic sample
		step := max(len(s.tab.keys)/sampleSize, 1)
		for id := 0; id < len(s.tab.keys) && len(st.ids) < sampleSize; id += step {
			if s.tab.keys[id] != "" {
				st.ids = append(st.ids, int64(id))
			}
		}
	}
	s.sample.cur = st
	return st
}

// field builds (once per sample) the histogram of one field.
func (st *sample) field(s *Store, name string) *fieldStats {
	st.mu.Lock()
	defer st.mu.Unlock()
	if f := st.byField[name]; f != nil {
		return f
	}
	f := &fieldStats{}
	for _, id := range st.ids {
		v, ok := s.tab.metas[id][name]
		if !ok {
			continue
		}
		f.present++
		anyElem(v, func(x any) bool {
			switch t := x.(type) {
			case string:
				f.strs = append(f.strs, t)
			case int64, float64:
				n, _ := number(t)
				f.nums = append(f.nums, n)
			}
			return false
		})
	}
	sort.Float64s(f.nums)
	sort.Strings(f.strs)
	st.byField[name] = f
	return f
}

// selectivity estimates the share of live records p and dp admit.
func (s *Store) selectivity(p pred, dp docPred) float64 {
	live := s.tab.live()
	if live == 0 {
		return 0
	}
	st := s.statsLocked()
	sel := 1.0
	if p != nil {
		sel = s.predShare(st, p, live)
	}
	if dp != nil && len(st.ids) > 0 {
		n := 0
		for _, id := range st.ids {
			if dp.matchDoc(s.tab.docs[id], s.tab.hasDoc[id]) {
				n++
			}
		}
		sel *= float64(n) / float64(len(st.ids))
	}
	return clamp01(sel)
}

func clamp01(x float64) float64 { return min(max(x, 0), 1) }

func (s *Store) predShare(st *sample, p pred, live int) float64 {
	switch q := p.(type) {
	case andPred:
		out := 1.0
		for _, sub := range q {
			out *= s.predShare(st, sub, live)
		}
		return out
	case orPred:
		none := 1.0
		for _, sub := range q {
			none *= 1 - s.predShare(st, sub, live)
		}
		return 1 - none
	case notPred:
		return 1 - s.predShare(st, q.p, live)
	case fieldPred:
		return s.fieldShare(st, q, live)
	}
	return 1
}

func (s *Store) fieldShare(st *sample, f fieldPred, live int) float64 {
	eqShare := func(args []any) float64 {
		n := 0
		for _, a := range args {
			if k, ok := indexKey(a); ok {
				n += len(s.tab.eq[f.field][k]) // exact: the equality index's count
			}
		}
		return clamp01(float64(n) / float64(live))
	}
	switch f.op {
	case "$eq":
		return eqShare([]any{f.arg})
	case "$in":
		return eqShare(f.args)
	case "$ne":
		return 1 - eqShare([]any{f.arg})
	case "$nin":
		return 1 - eqShare(f.args)
	}
	if len(st.ids) == 0 {
		return 1
	}
	fs := st.field(s, f.field)
	if f.op == "$exists" {
		share := float64(fs.present) / float64(len(st.ids))
		if f.arg.(bool) {
			return share
		}
		return 1 - share
	}
	// a range: the share of the histogram's values inside it
	n := float64(len(st.ids))
	switch a := f.arg.(type) {
	case string:
		lo, hi := rangeOf(len(fs.strs), func(i int) int { return cmpStr(fs.strs[i], a) }, f.op)
		return float64(hi-lo) / n
	default:
		x, ok := number(a)
		if !ok {
			return 1
		}
		lo, hi := rangeOf(len(fs.nums), func(i int) int { return cmpNum(fs.nums[i], x) }, f.op)
		return float64(hi-lo) / n
	}
}

// rangeOf is the [lo, hi) of sorted values that op against the argument
// admits; cmp(i) compares value i with the argument.
func rangeOf(n int, cmp func(i int) int, op string) (int, int) {
	firstGE := sort.Search(n, func(i int) bool { return cmp(i) >= 0 })
	firstGT := sort.Search(n, func(i int) bool { return cmp(i) > 0 })
	switch op {
	case "$gt":
		return firstGT, n
	case "$gte":
		return firstGE, n
	case "$lt":
		return 0, firstGE
	case "$lte":
		return 0, firstGT
	}
	return 0, n
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpNum(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
