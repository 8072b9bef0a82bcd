package parallel

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
)

func TestFor_CoversEveryItemOnce(t *testing.T) {
	for _, w := range []int{1, 2, 7} {
		SetWorkers(w)
		for _, n := range []int{0, 1, 5, 100, 1001} {
			seen := make([]atomic.Int32, n)
			err := For(context.Background(), n, 13, func(lo, hi int) error {
				for i := lo; i < hi; i++ {
					seen[i].Add(1)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for i := range seen {
				if seen[i].Load() != 1 {
					t.Fatalf("workers=%d n=%d: item %d seen %d times", w, n, i, seen[i].Load())
				}
			}
		}
	}
	SetWorkers(0)
}

func TestFor_PanicInWorkerBecomesInternalError(t *testing.T) {
	for _, w := range []int{1, 4} {
		SetWorkers(w)
		err := For(context.Background(), 100, 1, func(lo, hi int) error {
			if lo == 57 {
				panic("boom")
			}
			return nil
		})
		if !errors.Is(err, errs.Internal) {
			t.Fatalf("workers=%d: got %v, want errs.Internal", w, err)
		}
	}
	SetWorkers(0)
}

func TestFor_StopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	err := For(ctx, 1000, 1, func(lo, hi int) error {
		if calls.Add(1) == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, errs.Canceled) {
		t.Fatalf("got %v, want errs.Canceled", err)
	}
	if c := calls.Load(); c >= 1000 {
		t.Fatalf("loop ran all %d chunks after cancel", c)
	}
}

func TestFor_UnderSerialRunsInOrderOnTheCaller(t *testing.T) {
	SetWorkers(4)
	defer SetWorkers(0)
	var order []int // unsynchronised on purpose: the race detector flags any second goroutine
	err := For(Serial(context.Background()), 100, 3, func(lo, hi int) error {
		order = append(order, lo)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, lo := range order {
		if lo != 3*i {
			t.Fatalf("chunk %d started at %d: not in order", i, lo)
		}
	}
	if len(order) != 34 {
		t.Fatalf("%d chunks, want 34", len(order))
	}
}
