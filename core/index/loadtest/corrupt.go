package loadtest

import (
	"errors"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
)

// Damage is one broken invariant for Corruptions.
type Damage[T index.Index] struct {
	Name string
	// File: the damage survives Save, so loading the saved file must
	// refuse it with errs.Corrupt.
	File  bool
	Break func(t *testing.T, x T)
}

// Corruptions proves an index type's Verify can fail: for each damage it
// builds a fresh index (fresh, which must verify), breaks it, and expects
// Verify to return errs.Internal; for damage a file can carry, loading
// the saved file must return errs.Corrupt.
func Corruptions[T index.Index](t *testing.T, fresh func(t *testing.T) T, damages []Damage[T]) {
	for _, d := range damages {
		t.Run(d.Name, func(t *testing.T) {
			x := fresh(t)
			defer x.Close()
			if err := index.Verify(x); err != nil {
				t.Fatalf("intact index: %v", err)
			}
			d.Break(t, x)
			err := index.Verify(x)
			if !errors.Is(err, errs.Internal) {
				t.Fatalf("Verify after the damage: %v, want errs.Internal", err)
			}
			t.Log(err)
			if !d.File {
				return
			}
			got, err := index.Load(save(t, x))
			if !errors.Is(err, errs.Corrupt) {
				t.Fatalf("loading the damaged file: %v, want errs.Corrupt", err)
			}
			if got != nil {
				got.Close()
			}
		})
	}
}

// Fresh returns a builder of b (Saved, then loaded) for Corruptions.
func Fresh[T index.Index](b Build) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		idx, err := index.Load(Saved(t, b))
		if err != nil {
			t.Fatal(err)
		}
		x, ok := idx.(T)
		if !ok {
			t.Fatalf("loaded a %T", idx)
		}
		return x
	}
}
