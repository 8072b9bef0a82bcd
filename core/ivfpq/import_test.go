package ivfpq

import (
	"errors"
	"slices"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

func lists(t *testing.T, x *IVFPQ) Lists {
	t.Helper()
	l, ids, codes, err := x.Parts()
	if err != nil {
		t.Fatal(err)
	}
	for c := range ids {
		l.Sizes = append(l.Sizes, len(ids[c]))
		l.IDs = append(l.IDs, ids[c]...)
		l.Codes = append(l.Codes, codes[c]...)
	}
	return l
}

// small4 is an IVF-PQ of 4-bit codes: quick to train.
func small4(t *testing.T, kind metric.Kind, d int, base []float32) *IVFPQ {
	t.Helper()
	m, _ := metric.New(kind, d, metric.Params{})
	x, err := New(d, m, 8, 1, d/2, 4, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Train(bg, base); err != nil {
		t.Fatal(err)
	}
	if err := x.Add(bg, base, nil, nil); err != nil {
		t.Fatal(err)
	}
	return x
}

func TestFromLists_SearchesAsTheSourceWithoutRetraining(t *testing.T) {
	d := 16
	base := clustered(1000, d, 9)
	for _, kind := range []metric.Kind{metric.L2, metric.IP} {
		src := small4(t, kind, d, base)
		m, _ := metric.New(kind, d, metric.Params{})
		x, err := FromLists(d, m, lists(t, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := x.Verify(); err != nil {
			t.Fatal(err)
		}
		q := base[:20*d]
		p := &index.SearchParams{NProbe: 4}
		a, ad := make([]int64, 200), make([]float32, 200)
		b, bd := make([]int64, 200), make([]float32, 200)
		if err := src.Search(bg, q, 10, p, a, ad); err != nil {
			t.Fatal(err)
		}
		if err := x.Search(bg, q, 10, p, b, bd); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a, b) || !slices.Equal(ad, bd) {
			t.Fatalf("%v: results differ", kind)
		}
	}
}

func TestFromLists_RefusesInconsistentParts(t *testing.T) {
	d := 8
	src := small4(t, metric.L2, d, clustered(500, d, 10))
	m, _ := metric.New(metric.L2, d, metric.Params{})
	for name, c := range map[string]struct {
		break_ func(l *Lists)
		class  error
	}{
		"short codes":        {func(l *Lists) { l.Codes = l.Codes[:len(l.Codes)-1] }, errs.Corrupt},
		"short codebook":     {func(l *Lists) { l.Codebook = l.Codebook[:len(l.Codebook)-1] }, errs.Corrupt},
		"sizes past the ids": {func(l *Lists) { l.Sizes[0] += 1 << 20 }, errs.Corrupt},
		"nbits 6":            {func(l *Lists) { l.NBits = 6 }, errs.InvalidArgument},
	} {
		l := lists(t, src)
		l.Sizes = slices.Clone(l.Sizes)
		c.break_(&l)
		if _, err := FromLists(d, m, l); !errors.Is(err, c.class) {
			t.Fatalf("%s: want %v, got %v", name, c.class, err)
		}
	}
}
