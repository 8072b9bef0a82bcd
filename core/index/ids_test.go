package index

import (
	"errors"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
)

func TestIDs_DenseUntilAnExplicitIDOrARemove(t *testing.T) {
	var x IDs
	ids, err := x.Assign(nil, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	x.Append(ids)
	// explicit ids that continue the rows keep it dense
	more, err := x.Assign([]int64{3, 4}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	x.Append(more)
	if !x.Dense() || x.Len() != 5 || x.MemoryBytes() != 0 || x.ID(4) != 4 {
		t.Fatalf("dense=%v len=%d mem=%d", x.Dense(), x.Len(), x.MemoryBytes())
	}
	if _, err := x.Assign([]int64{9, 2}, 2, nil); !errors.Is(err, errs.DuplicateID) {
		t.Fatalf("duplicate of a dense id: %v", err)
	}
	if _, _, ok := x.Remove(77); ok || !x.Dense() {
		t.Fatal("removing an absent id must change nothing")
	}
	row, last, ok := x.Remove(1)
	if !ok || row != 1 || last != 4 || x.Dense() {
		t.Fatalf("remove: row %d last %d ok %v dense %v", row, last, ok, x.Dense())
	}
	if x.ID(1) != 4 || x.Len() != 4 || x.MemoryBytes() == 0 {
		t.Fatalf("after remove: id of row 1 = %d, len %d", x.ID(1), x.Len())
	}
	if r, ok := x.Row(4); !ok || r != 1 {
		t.Fatalf("row of 4 = %d %v", r, ok)
	}
	if _, ok := x.Row(1); ok {
		t.Fatal("a removed id is still found")
	}
	// new auto ids continue after the largest ever handed out
	auto, _ := x.Assign(nil, 1, nil)
	if auto[0] != 5 {
		t.Fatalf("next auto id %d", auto[0])
	}
}

func TestIDs_ExplicitIDsMaterialiseAndRestoreKeepsTheForm(t *testing.T) {
	var x IDs
	x.Append([]int64{10, 20})
	if x.Dense() || x.ID(1) != 20 || x.Next != 21 {
		t.Fatalf("dense=%v id=%d next=%d", x.Dense(), x.ID(1), x.Next)
	}
	var y IDs
	if err := y.Restore([]int64{0, 1, 2}, 3); err != nil || !y.Dense() || y.Len() != 3 {
		t.Fatalf("dense restore: %v dense=%v", err, y.Dense())
	}
	if err := y.Restore([]int64{0, 2}, 3); err != nil || y.Dense() || y.ID(1) != 2 {
		t.Fatalf("sparse restore: %v dense=%v", err, y.Dense())
	}
	if err := y.Restore([]int64{1, 1}, 3); !errors.Is(err, errs.Corrupt) {
		t.Fatalf("duplicate ids on load: %v", err)
	}
}
