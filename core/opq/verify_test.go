package opq

import (
	"testing"

	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/index/loadtest"
	"github.com/oxvec/oxvec/core/metric"
)

// TestVerify_CatchesEveryCorruption proves Verify can fail: each damage
// to the rotation, the shape or the inner index is errs.Internal, and
// loading a file that carries it is errs.Corrupt.
func TestVerify_CatchesEveryCorruption(t *testing.T) {
	fresh := loadtest.Fresh[*OPQ](loadtest.Build{Spec: `{"type":"opq","dim":4,"m":2,"iters":1,"index":{"type":"flat"}}`, Train: 256, Add: 10, Sparse: true})
	loadtest.Corruptions(t, fresh, []loadtest.Damage[*OPQ]{
		{Name: "copies of the rotation differ", Break: func(t *testing.T, o *OPQ) { o.r[1] += 1 }},
		{Name: "rotation short", File: true, Break: func(t *testing.T, o *OPQ) { o.rt = o.rt[:len(o.rt)-1] }},
		{Name: "m does not divide dim", File: true, Break: func(t *testing.T, o *OPQ) { o.m = 3 }},
		{Name: "untrained with vectors", File: true, Break: func(t *testing.T, o *OPQ) { o.rt, o.r = nil, nil }},
		{Name: "inner index of another metric", File: true, Break: func(t *testing.T, o *OPQ) {
			f, err := flat.Of(o.Dim(), metric.IP)
			if err != nil {
				t.Fatal(err)
			}
			o.inner = f
		}},
		{Name: "inner index broken", Break: func(t *testing.T, o *OPQ) { o.inner = brokenInner{o.inner} }},
	})
}

// brokenInner is an inner index whose own Verify fails.
type brokenInner struct{ index.Index }

func (brokenInner) Verify() error { return index.Broken("inner", "made up for the test") }
