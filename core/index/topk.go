package index

import "math"

// TopK keeps the k best (smallest distance, then smallest id) results seen so
// far in a bounded max-heap whose worst entry sits at the root. It works in
// place in the slices it is given, so a searcher can heap directly into the
// caller's output row and allocate nothing per query.
type TopK struct {
	dist []float32
	ids  []int64
	n    int
}

// Reset starts a new selection of len(dist) results stored in dist and ids,
// which must have the same length.
func (h *TopK) Reset(dist []float32, ids []int64) {
	h.dist, h.ids, h.n = dist, ids[:len(dist)], 0
}

// Len is the number of results held.
func (h *TopK) Len() int { return h.n }

// Bound is the distance a new result must beat (or tie with a smaller id) to
// enter: +Inf until the heap is full.
func (h *TopK) Bound() float32 {
	if h.n < len(h.dist) {
		return float32(math.Inf(1))
	}
	return h.dist[0]
}

// worse reports whether result i ranks after (d, id).
func (h *TopK) worse(i int, d float32, id int64) bool {
	return h.dist[i] > d || (h.dist[i] == d && h.ids[i] > id)
}

// Push offers one result.
func (h *TopK) Push(d float32, id int64) {
	k := len(h.dist)
	if h.n < k {
		i := h.n
		h.n++
		for i > 0 {
			p := (i - 1) / 2
			if h.worse(p, d, id) {
				break // the parent ranks after the new entry: heap order holds
			}
			h.dist[i], h.ids[i] = h.dist[p], h.ids[p]
			i = p
		}
		h.dist[i], h.ids[i] = d, id
		return
	}
	if k == 0 || !h.worse(0, d, id) {
		return
	}
	h.siftDown(0, d, id, k)
}

// siftDown places (d, id) at position i of a heap of size n.
func (h *TopK) siftDown(i int, d float32, id int64, n int) {
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && (h.dist[r] > h.dist[c] || (h.dist[r] == h.dist[c] && h.ids[r] > h.ids[c])) {
			c = r
		}
		if !(h.dist[c] > d || (h.dist[c] == d && h.ids[c] > id)) {
			break
		}
		h.dist[i], h.ids[i] = h.dist[c], h.ids[c]
		i = c
	}
	h.dist[i], h.ids[i] = d, id
}

// Finish sorts the held results ascending in place and pads the rest of the
// row with id -1 and distance +Inf. The heap is empty afterwards.
func (h *TopK) Finish() {
	for n := h.n; n > 1; n-- {
		d, id := h.dist[n-1], h.ids[n-1]
		h.dist[n-1], h.ids[n-1] = h.dist[0], h.ids[0]
		h.siftDown(0, d, id, n-1)
	}
	Pad(h.dist[h.n:], h.ids[h.n:])
	h.n = 0
}

// Pad fills a result row with id -1 and distance +Inf, the marks of "no
// result".
func Pad(dist []float32, ids []int64) {
	inf := float32(math.Inf(1))
	for i := range dist {
		dist[i], ids[i] = inf, -1
	}
}

// Merge offers every held result of o to h.
func (h *TopK) Merge(o *TopK) {
	for i := 0; i < o.n; i++ {
		h.Push(o.dist[i], o.ids[i])
	}
}

// SortResults orders a result row by (distance, id) ascending, in place,
// keeping padding (id -1) at the end. Rows are short (k), so insertion sort.
func SortResults(dist []float32, ids []int64) {
	n := len(ids)
	for n > 0 && ids[n-1] < 0 {
		n--
	}
	for i := 1; i < n; i++ {
		d, id := dist[i], ids[i]
		j := i
		for ; j > 0 && (dist[j-1] > d || (dist[j-1] == d && ids[j-1] > id)); j-- {
			dist[j], ids[j] = dist[j-1], ids[j-1]
		}
		dist[j], ids[j] = d, id
	}
}
