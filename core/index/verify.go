package index

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
)

// Verifier is implemented by index types that can check their own
// structure: Verify walks everything the type keeps (lists, id maps,
// sizes) and reports the first broken invariant as an errs.Internal error
// naming it. It takes the index's lock shared, costs O(size) and changes
// nothing. Tests switch it on after every step (OXVEC_VERIFY=1 in the
// conformance suite, always in the fuzz targets), as bbolt's tests do with
// its consistency check; it is not called on any production path.
type Verifier interface {
	Verify() error
}

// Verify runs idx's invariant check when the type has one.
func Verify(idx Index) error {
	if v, ok := idx.(Verifier); ok {
		return v.Verify()
	}
	return nil
}

// Broken is the error of a failed invariant: errs.Internal, what names the
// index type.
func Broken(what, format string, a ...any) error {
	return fmt.Errorf("%w: %s invariant broken: "+format, append([]any{errs.Internal, what}, a...)...)
}

// Verify checks the mapping against itself: dense means no list and no map;
// otherwise the list and the map are inverse bijections of the n rows, and
// every id lies in [0, Next).
func (x *IDs) Verify(what string) error {
	if x.n < 0 {
		return Broken(what, "%d rows", x.n)
	}
	if x.Dense() {
		if x.list != nil {
			return Broken(what, "dense ids keep a row list")
		}
		if x.Next < int64(x.n) {
			return Broken(what, "dense ids 0..%d but next_id %d", x.n-1, x.Next)
		}
		return nil
	}
	if len(x.list) != x.n || len(x.rows) != x.n {
		return Broken(what, "%d rows, %d ids listed, %d mapped", x.n, len(x.list), len(x.rows))
	}
	for r, id := range x.list {
		if id < 0 || id >= x.Next {
			return Broken(what, "row %d holds id %d outside [0, next_id=%d)", r, id, x.Next)
		}
		if got, ok := x.rows[id]; !ok || int(got) != r {
			return Broken(what, "row %d holds id %d, which maps to row %d (present %v)", r, id, got, ok)
		}
	}
	return nil
}

// Verify checks the mapping against the lists all walks: every stored id
// once, in [0, Next), n of them; with a map, the map holds exactly the
// stored ids at the slots where they are stored; dense, they are 0..n-1.
func (s *Slots) Verify(all Lister, what string) error {
	count := 0
	var bad error
	var seen []uint64
	if s.Dense() {
		seen = make([]uint64, (s.n+63)/64)
	}
	all(func(id int64, sl Slot) {
		count++
		if bad != nil {
			return
		}
		switch {
		case id < 0 || id >= s.Next:
			bad = Broken(what, "list %d position %d holds id %d outside [0, next_id=%d)", sl.List, sl.Pos, id, s.Next)
		case s.Dense():
			if id >= int64(s.n) {
				bad = Broken(what, "dense ids 0..%d, but list %d holds id %d", s.n-1, sl.List, id)
			} else if seen[id>>6]&(1<<(id&63)) != 0 {
				bad = Broken(what, "id %d stored twice", id)
			} else {
				seen[id>>6] |= 1 << (id & 63)
			}
		default:
			if got, ok := s.where[id]; !ok || got != sl {
				bad = Broken(what, "id %d stored at %v, mapped to %v (present %v)", id, sl, got, ok)
			}
		}
	})
	if bad != nil {
		return bad
	}
	if count != s.n || (!s.Dense() && len(s.where) != s.n) {
		return Broken(what, "%d ids stored, %d counted, %d mapped", count, s.n, len(s.where))
	}
	return nil
}
