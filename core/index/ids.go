package index

import (
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
)

// IDs maps ids to dense row numbers for index types that keep their data
// in row-major arrays and fill the hole of a removed row with the last one
// (binary, sq, pq). The zero value is not ready: use NewIDs.
type IDs struct {
	List []int64 // row -> id
	rows map[int64]int32
	Next int64 // smallest id never handed out by auto-assignment
}

// NewIDs returns an empty mapping.
func NewIDs() IDs { return IDs{rows: map[int64]int32{}} }

// Len is the number of rows.
func (x *IDs) Len() int { return len(x.List) }

// Assign returns the ids of a batch of n rows about to be appended: the
// caller's (checked against those present) or fresh ones, also copied to
// assigned when it is not nil. Nothing is recorded until Append.
func (x *IDs) Assign(ids []int64, n int, assigned []int64) ([]int64, error) {
	if len(x.List)+n > math.MaxInt32 {
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
		if _, dup := x.rows[id]; dup {
			return nil, fmt.Errorf("%w: id %d is already in the index; remove it first to replace its vector", errs.DuplicateID, id)
		}
	}
	return ids, nil
}

// Append records ids as the next rows.
func (x *IDs) Append(ids []int64) {
	base := len(x.List)
	x.List = append(x.List, ids...)
	for i, id := range ids {
		x.rows[id] = int32(base + i)
		if id >= x.Next {
			x.Next = id + 1
		}
	}
}

// Remove forgets id. When ok, the caller moves its data of row last into
// row (unless they are equal) and drops its last row; the ids are already
// moved and truncated.
func (x *IDs) Remove(id int64) (row, last int, ok bool) {
	r, ok := x.rows[id]
	if !ok {
		return 0, 0, false
	}
	last = len(x.List) - 1
	if int(r) != last {
		moved := x.List[last]
		x.List[r] = moved
		x.rows[moved] = r
	}
	x.List = x.List[:last]
	delete(x.rows, id)
	return int(r), last, true
}

// Row returns the row of id.
func (x *IDs) Row(id int64) (int, bool) {
	r, ok := x.rows[id]
	return int(r), ok
}

// MemoryBytes estimates the mapping's memory.
func (x *IDs) MemoryBytes() int64 { return int64(cap(x.List))*8 + int64(len(x.rows))*24 }

// Restore rebuilds the mapping from loaded ids, which must be unique and
// below next.
func (x *IDs) Restore(list []int64, next int64) error {
	x.List, x.Next, x.rows = append([]int64(nil), list...), next, make(map[int64]int32, len(list))
	for r, id := range x.List {
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
