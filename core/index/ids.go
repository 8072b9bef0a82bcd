package index

import (
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
)

// IDs maps ids to dense row numbers for index types that keep their data
// in row-major arrays and fill the hole of a removed row with the last one
// (binary, sq, pq).
//
// While every id was assigned automatically and none removed, row r holds
// id r: the mapping is then just a count and costs no memory, so such an
// index spends on ids what faiss's flat codes do (nothing). The first
// explicit id that breaks the pattern, or the first remove, materialises a
// row -> id list and an id -> row map (8 + ~24 bytes per vector), which
// make removes O(1) and let adds reject duplicate ids. The zero value is an
// empty mapping.
type IDs struct {
	list []int64         // row -> id; nil while dense
	rows map[int64]int32 // id -> row; nil while dense
	n    int
	Next int64 // smallest id never handed out by auto-assignment
}

// NewIDs returns an empty mapping.
func NewIDs() IDs { return IDs{} }

// Len is the number of rows.
func (x *IDs) Len() int { return x.n }

// Dense reports whether row r holds id r for every row.
func (x *IDs) Dense() bool { return x.rows == nil }

// ID returns the id of row r.
func (x *IDs) ID(r int) int64 {
	if x.list == nil {
		return int64(r)
	}
	return x.list[r]
}

// List returns the ids of all rows in row order (a new slice while dense).
func (x *IDs) List() []int64 {
	if x.list != nil {
		return x.list
	}
	l := make([]int64, x.n)
	for r := range l {
		l[r] = int64(r)
	}
	return l
}

// Assign returns the ids of a batch of n rows about to be appended: the
// caller's (checked against those present) or fresh ones, also copied to
// assigned when it is not nil. Nothing is recorded until Append.
func (x *IDs) Assign(ids []int64, n int, assigned []int64) ([]int64, error) {
	if x.n+n > math.MaxInt32 {
		return nil, fmt.Errorf("%w: an index of this type holds at most %d vectors", errs.InvalidArgument, math.MaxInt32)
	}
	if ids == nil {
		ids = make([]int64, n)
		for i := range ids {
			ids[i] = x.Next + int64(i)
		}
		if assigned != nil {
			copy(assigned, ids)
		}
		return ids, nil
	}
	for _, id := range ids {
		if _, dup := x.Row(id); dup {
			return nil, fmt.Errorf("%w: id %d is already in the index; remove it first to replace its vector", errs.DuplicateID, id)
		}
	}
	return ids, nil
}

// Append records ids as the next rows.
func (x *IDs) Append(ids []int64) {
	if x.Dense() && continues(ids, x.n) {
		x.n += len(ids)
		x.Next = max(x.Next, int64(x.n))
		return
	}
	x.materialise()
	base := len(x.list)
	x.list = append(x.list, ids...)
	for i, id := range ids {
		x.rows[id] = int32(base + i)
		if id >= x.Next {
			x.Next = id + 1
		}
	}
	x.n = len(x.list)
}

// continues reports whether ids are from, from+1, ...
func continues(ids []int64, from int) bool {
	for i, id := range ids {
		if id != int64(from+i) {
			return false
		}
	}
	return true
}

// materialise turns a dense mapping into the list and the map.
func (x *IDs) materialise() {
	if !x.Dense() {
		return
	}
	x.list = x.List()
	x.rows = make(map[int64]int32, x.n)
	for r := range x.n {
		x.rows[int64(r)] = int32(r)
	}
}

// Remove forgets id. When ok, the caller moves its data of row last into
// row (unless they are equal) and drops its last row; the ids are already
// moved and truncated.
func (x *IDs) Remove(id int64) (row, last int, ok bool) {
	if _, ok := x.Row(id); !ok {
		return 0, 0, false
	}
	x.materialise()
	r := x.rows[id]
	last = len(x.list) - 1
	if int(r) != last {
		moved := x.list[last]
		x.list[r] = moved
		x.rows[moved] = r
	}
	x.list = x.list[:last]
	x.n = last
	delete(x.rows, id)
	return int(r), last, true
}

// Row returns the row of id.
func (x *IDs) Row(id int64) (int, bool) {
	if x.Dense() {
		return int(id), id >= 0 && id < int64(x.n)
	}
	r, ok := x.rows[id]
	return int(r), ok
}

// MemoryBytes estimates the mapping's memory.
func (x *IDs) MemoryBytes() int64 { return int64(cap(x.list))*8 + int64(len(x.rows))*24 }

// Restore rebuilds the mapping from loaded ids, which must be unique and
// below next; ids 0, 1, ... with next = their count load dense.
func (x *IDs) Restore(list []int64, next int64) error {
	if next == int64(len(list)) && continues(list, 0) {
		*x = IDs{n: len(list), Next: next}
		return nil
	}
	x.list, x.Next, x.rows = append([]int64(nil), list...), next, make(map[int64]int32, len(list))
	x.n = len(x.list)
	for r, id := range x.list {
		if id < 0 || id >= next {
			return fmt.Errorf("%w: id %d outside [0, next_id=%d)", errs.Corrupt, id, next)
		}
		if _, dup := x.rows[id]; dup {
			return fmt.Errorf("%w: id %d stored twice", errs.Corrupt, id)
		}
		x.rows[id] = int32(r)
	}
	return nil
}
