package index

import (
	"errors"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
)

// fakeLists is a minimal inverted-list holder for Slots.
type fakeLists [][]int64

func (f *fakeLists) all(fn func(id int64, s Slot)) {
	for c, l := range *f {
		for i, id := range l {
			fn(id, Slot{List: int32(c), Pos: int32(i)})
		}
	}
}

func (f *fakeLists) add(s *Slots, ids []int64, cells []int) {
	track := s.Append(ids, f.all)
	for i, id := range ids {
		c := cells[i]
		if track {
			s.Set(id, Slot{List: int32(c), Pos: int32(len((*f)[c]))})
		}
		(*f)[c] = append((*f)[c], id)
	}
}

func TestSlots_NoMapWhileDenseThenTheMapFromTheLists(t *testing.T) {
	f := &fakeLists{nil, nil}
	var s Slots
	ids, _ := s.Assign(nil, 4, nil, "a test")
	f.add(&s, ids, []int{0, 1, 1, 0})
	if !s.Dense() || s.Len() != 4 || s.MemoryBytes() != 0 {
		t.Fatalf("dense=%v len=%d", s.Dense(), s.Len())
	}
	if _, err := s.Assign([]int64{3}, 1, nil, "a test"); !errors.Is(err, errs.DuplicateID) {
		t.Fatalf("duplicate of a dense id: %v", err)
	}
	sl, ok := s.Remove(2, f.all)
	if !ok || sl != (Slot{List: 1, Pos: 1}) || s.Dense() || s.Len() != 3 {
		t.Fatalf("remove 2: %v %v dense=%v", sl, ok, s.Dense())
	}
	if _, ok := s.Remove(2, f.all); ok {
		t.Fatal("removed twice")
	}
	// explicit ids now go through the map
	f.add(&s, []int64{100}, []int{1})
	if _, err := s.Assign([]int64{100}, 1, nil, "a test"); !errors.Is(err, errs.DuplicateID) {
		t.Fatalf("duplicate of an explicit id: %v", err)
	}
	if auto, _ := s.Assign(nil, 1, nil, "a test"); auto[0] != 101 {
		t.Fatalf("next auto id %d", auto[0])
	}
}

func TestSlots_RestoreIsDenseOnlyFor0ToN(t *testing.T) {
	var s Slots
	dense := &fakeLists{{2, 0}, {1}}
	if err := s.Restore(dense.all, 3); err != nil || !s.Dense() || s.Len() != 3 {
		t.Fatalf("%v dense=%v", err, s.Dense())
	}
	sparse := &fakeLists{{5}, {1}}
	if err := s.Restore(sparse.all, 6); err != nil || s.Dense() || s.Len() != 2 {
		t.Fatalf("%v dense=%v", err, s.Dense())
	}
	if err := s.Restore((&fakeLists{{1}, {1}}).all, 3); !errors.Is(err, errs.Corrupt) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := s.Restore((&fakeLists{{7}}).all, 3); !errors.Is(err, errs.Corrupt) {
		t.Fatalf("out of range: %v", err)
	}
}
