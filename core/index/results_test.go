package index

import (
	"errors"
	"math"
	"runtime/debug"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
)

func TestResults_IsKCappedByTheIndex(t *testing.T) {
	for i, c := range []struct{ k, n, want int }{
		{10, 5, 5}, {5, 10, 5}, {1 << 40, 3, 3}, {7, 0, 0}, {math.MaxInt, math.MaxInt, math.MaxInt},
	} {
		if got := Results(c.k, c.n); got != c.want {
			t.Errorf("case %d: Results(%d, %d) = %d, want %d", i, c.k, c.n, got, c.want)
		}
	}
}

func TestCandidates_IsKTimesFactorCappedWithoutOverflow(t *testing.T) {
	for i, c := range []struct{ k, factor, n, want int }{
		{10, 0, 100, 10},                 // no re-ranking: k
		{10, 5, 100, 50},                 // k*factor fits
		{10, 10, 100, 100},               // exactly n
		{10, 11, 100, 100},               // beyond n
		{1 << 40, 100, 5, 5},             // huge k
		{math.MaxInt / 2, 1 << 20, 7, 7}, // k*factor overflows int
		{3, math.MaxInt, 1000, 1000},     // huge factor
		{4, 3, 0, 0},                     // empty index
	} {
		if got := Candidates(c.k, c.factor, c.n); got != c.want {
			t.Errorf("case %d: Candidates(%d, %d, %d) = %d, want %d", i, c.k, c.factor, c.n, got, c.want)
		}
	}
}

func TestPadRows_PadsOnlyTheColumnsBeyondTheResults(t *testing.T) {
	const nq, k, kk = 3, 4, 2
	ids := make([]int64, nq*k+1) // one guard value past the rows
	dist := make([]float32, nq*k+1)
	ids[nq*k], dist[nq*k] = 99, 99
	PadRows(ids[:nq*k], dist[:nq*k], nq, k, kk)
	for i := range nq * k {
		padded := i%k >= kk
		if padded != (ids[i] == -1 && math.IsInf(float64(dist[i]), 1)) || !padded && (ids[i] != 0 || dist[i] != 0) {
			t.Fatalf("value %d: (%d, %v)", i, ids[i], dist[i])
		}
	}
	if ids[nq*k] != 99 || dist[nq*k] != 99 {
		t.Fatal("PadRows wrote past the rows")
	}
}

func TestCheckOutputs_RefusesShortBuffersWithoutOverflow(t *testing.T) {
	if err := CheckOutputs(2, 5, 10, 10); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct{ nq, k, nids, ndist int }{
		{2, 5, 9, 10}, {2, 5, 10, 9}, {2, math.MaxInt/2 + 1, 10, 10}, {3, math.MaxInt, 1 << 20, 1 << 20},
	} {
		if err := CheckOutputs(c.nq, c.k, c.nids, c.ndist); !errors.Is(err, errs.InvalidArgument) {
			t.Errorf("case %d: %v, want InvalidArgument", i, err)
		}
	}
	if err := CheckOutputs(0, math.MaxInt, 0, 0); err != nil {
		t.Fatalf("no queries need no room: %v", err)
	}
}

func TestCheckMemory_RefusesWhatTheLimitCannotHold(t *testing.T) {
	old := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(old)
	if err := CheckMemory(1 << 40); err != nil {
		t.Fatalf("without a limit nothing is refused: %v", err)
	}
	if err := CheckMemory(-1); !errors.Is(err, errs.NoMemory) {
		t.Fatalf("an overflowed size: %v, want NoMemory", err)
	}
	debug.SetMemoryLimit(64 << 20)
	if err := CheckMemory(1 << 30); !errors.Is(err, errs.NoMemory) {
		t.Fatalf("1 GiB under a 64 MiB limit: %v, want NoMemory", err)
	}
	if err := CheckMemory(1 << 10); err != nil {
		t.Fatalf("a small allocation is not checked: %v", err)
	}
}
