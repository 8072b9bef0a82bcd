package index

import (
	"context"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/parallel"
)

// Range search for any index type: no type can enumerate "everything
// within r" of its own (a graph or inverted-file search only ranks), so the
// k nearest are searched with a growing k until a row reaches beyond the
// radius. Exact for exact types, as good as the type's own search for the
// approximate ones.

// RangeFirstK is the k of a range search's first round; each later round
// searches the queries not yet settled with RangeGrowth times their k.
const (
	RangeFirstK  = 16
	RangeGrowth  = 4
	rangeResults = 1 << 20 // results per search call of a round: bounds its buffers (12 MiB)
)

// RangeResult holds the results of a range search in faiss's layout: those
// of query i are IDs[Lims[i]:Lims[i+1]] and Dist[...], sorted by (distance,
// id).
type RangeResult struct {
	Lims []int64
	IDs  []int64
	Dist []float32
}

// RangeSearch returns, for each of len(queries)/idx.Dim() queries, every
// vector within distance radius (distance <= radius) that a search finds.
//
// A query is searched for k = RangeFirstK, then RangeGrowth times more,
// until its k-th result lies beyond the radius or k exceeds the vectors
// the index holds (k is cut to Len() as Python's Index.search cuts it).
// Padding (id -1) is never a result. Queries are searched together, one
// batch per round, so each round uses the index's parallel search; a
// query's results do not depend on the batch it is in. An empty index
// still runs one search (k = 1), so an untrained index or a bad query is
// the same error a search gives. No query, no search.
func RangeSearch(ctx context.Context, idx Index, queries []float32, radius float32, p *SearchParams) (RangeResult, error) {
	dim := idx.Dim()
	if len(queries)%dim != 0 {
		return RangeResult{}, fmt.Errorf("%w: queries hold %d values, not a multiple of dim %d", errs.Dimension, len(queries), dim)
	}
	nq := len(queries) / dim
	rows := make([]rangeRow, nq) // the settled row of each query
	pending := make([]int, nq)
	for i := range pending {
		pending[i] = i
	}
	for k := RangeFirstK; len(pending) > 0; k *= RangeGrowth {
		if err := parallel.Check(ctx); err != nil {
			return RangeResult{}, err
		}
		cols := Results(k, idx.Len())
		width := max(cols, 1) // an empty index is still searched, to check the call
		chunk := max(1, rangeResults/width)
		var next []int
		for start := 0; start < len(pending); start += chunk {
			part := pending[start:min(start+chunk, len(pending))]
			ids, dist, err := searchRows(ctx, idx, queries, part, width, p)
			if err != nil {
				return RangeResult{}, err
			}
			for j, q := range part {
				row := rangeRow{ids[j*width : j*width+cols], dist[j*width : j*width+cols]}
				if cols < k || !row.within(radius) {
					rows[q] = row
				} else {
					next = append(next, q)
				}
			}
		}
		pending = next
	}
	return collect(rows, radius), nil
}

// rangeRow is one query's row of a round's search results.
type rangeRow struct {
	ids  []int64
	dist []float32
}

// within reports whether every result of the row lies within the radius:
// then a larger k may find more.
func (r rangeRow) within(radius float32) bool {
	for _, d := range r.dist {
		if !(d <= radius) {
			return false
		}
	}
	return true
}

// searchRows searches the queries numbered part for k results each.
func searchRows(ctx context.Context, idx Index, queries []float32, part []int, k int, p *SearchParams) ([]int64, []float32, error) {
	dim := idx.Dim()
	q := queries
	if len(part)*dim != len(queries) { // a later round or chunk: gather its rows
		q = make([]float32, 0, len(part)*dim)
		for _, i := range part {
			q = append(q, queries[i*dim:(i+1)*dim]...)
		}
	}
	if err := CheckMemory(int64(len(part)) * int64(k) * 12); err != nil {
		return nil, nil, err
	}
	ids := make([]int64, len(part)*k)
	dist := make([]float32, len(part)*k)
	if err := idx.Search(ctx, q, k, p, ids, dist); err != nil {
		return nil, nil, err
	}
	return ids, dist, nil
}

// collect packs the results within the radius of every row, in query order.
func collect(rows []rangeRow, radius float32) RangeResult {
	lims := make([]int64, len(rows)+1)
	for i, r := range rows {
		n := 0
		for j, d := range r.dist {
			if d <= radius && r.ids[j] >= 0 {
				n++
			}
		}
		lims[i+1] = lims[i] + int64(n)
	}
	out := RangeResult{Lims: lims, IDs: make([]int64, 0, lims[len(rows)]), Dist: make([]float32, 0, lims[len(rows)])}
	for _, r := range rows {
		for j, d := range r.dist {
			if d <= radius && r.ids[j] >= 0 {
				out.IDs = append(out.IDs, r.ids[j])
				out.Dist = append(out.Dist, d)
			}
		}
	}
	return out
}
