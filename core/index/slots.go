package index

import (
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
)

// Slot is a position in an inverted list.
type Slot struct{ List, Pos int32 }

// Lister calls fn with the id and slot of every vector in an index's lists.
type Lister func(fn func(id int64, s Slot))

// Slots locates ids in the inverted lists of ivf_flat and ivf_pq, the way
// IDs does for row-major types: while every id was assigned automatically
// (or continued 0, 1, ...) and none was removed, the ids present are
// exactly 0..n-1 and no map is kept, so a vector costs its code and its id
// in the list, as in faiss. The first remove, or an explicit id that breaks
// the pattern, builds the id -> slot map (~24 bytes per vector) from the
// lists; it makes removes O(1) and lets adds reject duplicates.
type Slots struct {
	where map[int64]Slot // nil while dense
	n     int
	Next  int64 // smallest id never handed out by auto-assignment
}

// Len is the number of ids present.
func (s *Slots) Len() int { return s.n }

// Dense reports whether the ids present are 0..Len()-1 with no map kept.
func (s *Slots) Dense() bool { return s.where == nil }

// MemoryBytes estimates the map's memory.
func (s *Slots) MemoryBytes() int64 { return int64(len(s.where)) * 24 }

// Assign returns the ids of a batch of n vectors about to be added: the
// caller's (checked against those present) or fresh ones, also copied to
// assigned when it is not nil. what names the index in errors.
func (s *Slots) Assign(ids []int64, n int, assigned []int64, what string) ([]int64, error) {
	if s.n+n > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %s index holds at most %d vectors", errs.InvalidArgument, what, math.MaxInt32)
	}
	if ids == nil {
		ids = make([]int64, n)
		for i := range ids {
			ids[i] = s.Next + int64(i)
		}
		if assigned != nil {
			copy(assigned, ids)
		}
		return ids, nil
	}
	for _, id := range ids {
		if s.has(id) {
			return nil, fmt.Errorf("%w: id %d is already in the index; remove it first to replace its vector", errs.DuplicateID, id)
		}
	}
	return ids, nil
}

func (s *Slots) has(id int64) bool {
	if s.Dense() {
		return id >= 0 && id < int64(s.n)
	}
	_, ok := s.where[id]
	return ok
}

// Append records ids as added, before the caller appends them to its lists
// (all lists what is there now). It returns whether the caller must Set
// each new id's slot: false while the ids stay dense.
func (s *Slots) Append(ids []int64, all Lister) bool {
	dense := s.Dense() && continues(ids, s.n)
	if !dense {
		s.materialise(all)
	}
	s.n += len(ids)
	for _, id := range ids {
		if id >= s.Next {
			s.Next = id + 1
		}
	}
	return !dense
}

// Set records id's slot (after Append returned true, or after a move).
func (s *Slots) Set(id int64, sl Slot) { s.where[id] = sl }

// Remove forgets id and returns the slot it had; the caller fills the hole
// and Sets the slot of the vector it moved there.
func (s *Slots) Remove(id int64, all Lister) (Slot, bool) {
	if !s.has(id) {
		return Slot{}, false
	}
	s.materialise(all)
	sl := s.where[id]
	delete(s.where, id)
	s.n--
	return sl, true
}

func (s *Slots) materialise(all Lister) {
	if !s.Dense() {
		return
	}
	s.where = make(map[int64]Slot, s.n)
	all(func(id int64, sl Slot) { s.where[id] = sl })
}

// Restore checks loaded lists (ids unique, in [0, next)) and sets up the
// mapping: dense when the ids are 0..n-1 and next is n.
func (s *Slots) Restore(all Lister, next int64) error {
	*s = Slots{where: map[int64]Slot{}, Next: next}
	var bad error
	all(func(id int64, sl Slot) {
		if _, dup := s.where[id]; bad == nil && dup {
			bad = fmt.Errorf("%w: id %d stored twice", errs.Corrupt, id)
		}
		if bad == nil && (id < 0 || id >= next) {
			bad = fmt.Errorf("%w: id %d outside [0, next_id=%d)", errs.Corrupt, id, next)
		}
		s.where[id] = sl
	})
	if bad != nil {
		return bad
	}
	s.n = len(s.where)
	if int64(s.n) == next {
		s.where = nil // n distinct ids in [0, n): exactly 0..n-1
	}
	return nil
}

// Finder returns the slot lookup of a read of ids (Vectors): the map when
// one is kept; while dense, one pass over the lists (all) collecting the
// slots of just these ids, rather than a map of every id kept for good.
func (s *Slots) Finder(ids []int64, all Lister) func(id int64) (Slot, bool) {
	if !s.Dense() {
		return func(id int64) (Slot, bool) { sl, ok := s.where[id]; return sl, ok }
	}
	want := make(map[int64]Slot, len(ids))
	for _, id := range ids {
		if s.has(id) {
			want[id] = Slot{List: -1}
		}
	}
	if len(want) > 0 {
		all(func(id int64, sl Slot) {
			if _, ok := want[id]; ok {
				want[id] = sl
			}
		})
	}
	return func(id int64) (Slot, bool) { sl, ok := want[id]; return sl, ok && sl.List >= 0 }
}
