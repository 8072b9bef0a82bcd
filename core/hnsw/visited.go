package hnsw

import (
	"sync"
	"sync/atomic"
)

// visited marks nodes seen by one walk. Marks are epochs: starting a walk
// bumps the epoch instead of clearing the array, so the array is cleared
// only once every 2^32-1 walks and never allocated per query.
type visited struct {
	marks []uint32
	epoch uint32
}

// reset prepares for a walk over n nodes.
func (v *visited) reset(n int) {
	if len(v.marks) < n {
		v.marks = make([]uint32, n+n/4)
		v.epoch = 0
	}
	v.epoch++
	if v.epoch == 0 { // wrapped: old marks could collide
		clear(v.marks)
		v.epoch = 1
	}
}

// visit marks i and reports whether it was unmarked.
func (v *visited) visit(i uint32) bool {
	if v.marks[i] == v.epoch {
		return false
	}
	v.marks[i] = v.epoch
	return true
}

// fresh marks the nodes of list and returns those it had not marked, in
// order, in room (len(room) >= len(list)). Branch-free: whether a
// neighbour was seen is close to a coin toss, which a branch per neighbour
// mispredicts; here every id is stored and the count advances by the
// answer. Ids in list must be distinct (a neighbour list's are).
func (v *visited) fresh(list, room []uint32) []uint32 {
	marks, epoch := v.marks, v.epoch
	room = room[:len(list)]
	k := 0
	for j := range list {
		nb := atomic.LoadUint32(&list[j])
		m := &marks[nb]
		inc := 0
		if *m != epoch {
			inc = 1
		}
		*m = epoch
		room[k] = nb
		k += inc
	}
	return room[:k]
}

// scratch is what one goroutine needs for a walk; pooled per index.
type scratch struct {
	seen       visited
	candidates minHeap
	results    maxHeap
	ids        []uint32  // neighbour ids gathered for one expansion
	dists      []float32 // and their distances
	out        []item    // a walk's sorted results
	query      []float32 // a query padded to the stored stride
	qcode      []uint8   // and its one-byte code (quantized indexes)
	u32        []uint32  // code distances of one expansion
}

// room returns s.ids with room for n ids.
func (s *scratch) room(n int) []uint32 {
	if cap(s.ids) < n {
		s.ids = make([]uint32, n)
	}
	return s.ids[:n]
}

// distances returns room for n distances (the gathers' output).
func (s *scratch) distances(n int) []float32 {
	if cap(s.dists) < n {
		s.dists = make([]float32, 2*n)
	}
	return s.dists[:n]
}

type scratchPool struct{ p sync.Pool }

func (sp *scratchPool) get() *scratch {
	if s, ok := sp.p.Get().(*scratch); ok {
		return s
	}
	return &scratch{}
}

func (sp *scratchPool) put(s *scratch) { sp.p.Put(s) }
