package probepolicy

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
)

func TestCurve_StepsAndNeeds(t *testing.T) {
	c := RankCurve([]int32{4, 0, 0, 9}, 5) // 2 neighbours in the nearest cell, one in the 5th, one in the 10th, one absent
	for cells, want := range map[int]float32{0: 0, 1: 0.4, 4: 0.4, 5: 0.6, 9: 0.6, 10: 0.8, 100: 0.8} {
		if got := c.At(cells); got != want {
			t.Errorf("recall after %d cells: %g, want %g", cells, got, want)
		}
	}
	if c.need(0.5, 64) != 5 || c.need(0.8, 64) != 10 || c.need(1, 64) != 64 {
		t.Errorf("needs %d %d %d", c.need(0.5, 64), c.need(0.8, 64), c.need(1, 64))
	}
	var d Curve
	d.Add(1, 0.5)
	d.Add(3, 0.5) // no change: no step
	d.Add(3, 0.7)
	d.Add(3, 0.6) // the same cell again: its last value
	if !slices.Equal(d.Cells, []int32{1, 3}) || !slices.Equal(d.Recall, []float32{0.5, 0.6}) {
		t.Errorf("steps %v %v", d.Cells, d.Recall)
	}
}

// A query's need is a function of one feature plus noise: the
// cross-fitted shift brings new queries' mean recall to the target.
func TestTrain_MeetsTheTargetOnNewQueries(t *testing.T) {
	const nlist, k = 256, 10
	r := rand.New(rand.NewPCG(1, 2))
	draw := func(n int) ([]float32, []Curve) {
		f, cs := make([]float32, n*NFeatures), make([]Curve, n)
		for q := range n {
			x := 1 + 4*r.Float64()
			f[q*NFeatures], f[q*NFeatures+1] = 1, float32(x)
			ranks := make([]int32, k)
			for j := range ranks {
				ranks[j] = int32(min(nlist-1, math.Exp2(x+1.5*r.NormFloat64())*r.Float64()))
			}
			cs[q] = RankCurve(ranks, k)
		}
		return f, cs
	}
	f, cs := draw(2000)
	p, err := Train(f, cs, k, nlist)
	if err != nil {
		t.Fatal(err)
	}
	g, held := draw(2000)
	for _, target := range []float32{0.8, 0.9, 0.95} {
		var s float64
		for q := range held {
			s += float64(held[q].At(p.Cells(g[q*NFeatures:(q+1)*NFeatures], target, nlist)))
		}
		if m := s / float64(len(held)); math.Abs(m-float64(target)) > 0.01 {
			t.Errorf("target %.2f: new queries' mean recall %.4f", target, m)
		}
	}
	q, err := Decode(p.Encode())
	if err != nil || !slices.Equal(q.Encode(), p.Encode()) || q.Verify() != nil {
		t.Fatalf("decode of an encoded policy: %v", err)
	}
}

func TestBadInputIsRefused(t *testing.T) {
	if _, err := Train(make([]float32, 10*NFeatures), make([]Curve, 10), 10, 64); !errors.Is(err, errs.InvalidArgument) {
		t.Errorf("10 queries: %v", err)
	}
	for _, tc := range []struct {
		nq, k int
		truth []int64
	}{{49, 10, nil}, {50, 0, nil}, {50, 1001, nil}, {50, 2, make([]int64, 99)}, {50, 1, append(make([]int64, 49), -1)}} {
		if err := CheckArgs(tc.nq, tc.k, tc.truth); !errors.Is(err, errs.InvalidArgument) {
			t.Errorf("nq %d, k %d, %d truth ids: %v", tc.nq, tc.k, len(tc.truth), err)
		}
	}
	if CheckArgs(50, 2, make([]int64, 100)) != nil {
		t.Error("good arguments refused")
	}
	for _, v := range [][]float32{{10, NFeatures, 2, 0}, {0, NFeatures, 1}, {10, NFeatures + 1, 1}, {10, NFeatures, 0}} {
		if _, err := Decode(v); err == nil {
			t.Errorf("section %v decoded", v)
		}
	}
	bad := append([]float32{10, NFeatures, 1, 0.9}, make([]float32, NFeatures)...)
	if _, err := Decode(append(bad, 100, 4)); err == nil { // shift beyond +-64
		t.Error("a shift of 100 decoded")
	}
	if p, err := Decode(append(bad, 1, 4)); err != nil || p.K() != 10 {
		t.Errorf("a good section: %v", err)
	}
}
