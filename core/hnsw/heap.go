package hnsw

// item is a node and its distance to the query.
type item struct {
	d  float32
	id uint32
}

// minHeap pops the closest item first (the frontier of a walk).
type minHeap []item

func (h *minHeap) push(it item) {
	*h = append(*h, it)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].d <= it.d {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = it
}

func (h *minHeap) pop() item {
	a := *h
	top := a[0]
	last := a[len(a)-1]
	a = a[:len(a)-1]
	*h = a
	i, n := 0, len(a)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && a[c+1].d < a[c].d {
			c++
		}
		if last.d <= a[c].d {
			break
		}
		a[i] = a[c]
		i = c
	}
	if n > 0 {
		a[i] = last
	}
	return top
}

// maxHeap keeps the best items found so far with the farthest on top, so
// the walk knows the distance a new item must beat.
type maxHeap []item

func (h *maxHeap) push(it item) {
	*h = append(*h, it)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].d >= it.d {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = it
}

func (h *maxHeap) pop() item {
	a := *h
	top := a[0]
	last := a[len(a)-1]
	a = a[:len(a)-1]
	*h = a
	i, n := 0, len(a)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && a[c+1].d > a[c].d {
			c++
		}
		if last.d >= a[c].d {
			break
		}
		a[i] = a[c]
		i = c
	}
	if n > 0 {
		a[i] = last
	}
	return top
}

func (h maxHeap) top() item { return h[0] }

// replaceTop swaps the farthest item for it (push and pop in one sift).
func (h maxHeap) replaceTop(it item) {
	i, n := 0, len(h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1].d > h[c].d {
			c++
		}
		if it.d >= h[c].d {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = it
}
