package index

// Grow returns buf resized to n, reallocated only when its capacity is too
// small; the contents are not cleared.
func Grow[E any](buf []E, n int) []E {
	if cap(buf) < n {
		return make([]E, n, n+n/4)
	}
	return buf[:n]
}

// GrowFor returns s with room for extra more elements: exactly that much
// when s is empty (a bulk add into new lists leaves no slack, so memory
// per vector is what is stored), otherwise at least a quarter more than
// its length (repeated small adds stay amortised O(1)).
func GrowFor[E any](s []E, extra int) []E {
	if cap(s)-len(s) >= extra {
		return s
	}
	n := len(s) + extra
	if len(s) > 0 {
		n = max(n, len(s)+len(s)/4)
	}
	return append(make([]E, 0, n), s...)
}

// CountLists returns how many of cells (list numbers) fall in each of
// nlist lists.
func CountLists(cells []int64, nlist int) []int {
	counts := make([]int, nlist)
	for _, c := range cells {
		counts[c]++
	}
	return counts
}
