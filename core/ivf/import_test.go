package ivf

import (
	"errors"
	"slices"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// lists flattens an index's Parts into the Lists FromLists takes.
func lists(t *testing.T, x *IVF) Lists {
	t.Helper()
	nprobe, cents, ids, vecs, err := x.Parts()
	if err != nil {
		t.Fatal(err)
	}
	l := Lists{NProbe: nprobe, Centroids: cents}
	for c := range ids {
		l.Sizes = append(l.Sizes, len(ids[c]))
		l.IDs = append(l.IDs, ids[c]...)
		l.Vectors = append(l.Vectors, vecs[c]...)
	}
	return l
}

func TestFromLists_SearchesAsTheSource(t *testing.T) {
	d := 8
	base := clustered(2000, d, 7)
	for _, kind := range []metric.Kind{metric.L2, metric.IP} {
		src := build(t, kind, d, 16, base)
		m, _ := metric.New(kind, d, metric.Params{})
		x, err := FromLists(d, m, lists(t, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := x.Verify(); err != nil {
			t.Fatal(err)
		}
		q := base[:20*d]
		for _, nprobe := range []int{1, 4} {
			p := &index.SearchParams{NProbe: nprobe}
			a, _ := search(t, src, q, 10, p)
			b, _ := search(t, x, q, 10, p)
			if !slices.Equal(a, b) {
				t.Fatalf("%v nprobe %d: results differ", kind, nprobe)
			}
		}
	}
}

func TestFromLists_RefusesInconsistentLists(t *testing.T) {
	d := 4
	src := build(t, metric.L2, d, 4, clustered(200, d, 8))
	m, _ := metric.New(metric.L2, d, metric.Params{})
	for name, c := range map[string]struct {
		break_ func(l *Lists)
		class  error
	}{
		"sizes past the ids":  {func(l *Lists) { l.Sizes[0] += 1000 }, errs.Corrupt},
		"short vectors":       {func(l *Lists) { l.Vectors = l.Vectors[:len(l.Vectors)-1] }, errs.Corrupt},
		"negative list size":  {func(l *Lists) { l.Sizes[0] = -1 }, errs.Corrupt},
		"an id twice":         {func(l *Lists) { l.IDs[1] = l.IDs[0] }, errs.DuplicateID},
		"centroids too short": {func(l *Lists) { l.Centroids = l.Centroids[:d] }, errs.Corrupt},
	} {
		l := lists(t, src)
		l.Sizes, l.IDs = slices.Clone(l.Sizes), slices.Clone(l.IDs)
		c.break_(&l)
		if _, err := FromLists(d, m, l); !errors.Is(err, c.class) {
			t.Fatalf("%s: want %v, got %v", name, c.class, err)
		}
	}
}
