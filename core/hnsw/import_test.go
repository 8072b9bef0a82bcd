package hnsw

import (
	"errors"
	"slices"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/metric"
)

// exported is an index's graph as Graph reports it.
type exported struct {
	vecs   []float32
	ids    []int64
	levels []int
	links  [][][]int32
	entry  int
	m      int
}

func export(t *testing.T, h *HNSW) exported {
	t.Helper()
	var e exported
	entry, _, m, err := h.Graph(func(node int, id int64, vec []float32, level int, links [][]int32) {
		e.vecs = append(e.vecs, vec...)
		e.ids = append(e.ids, id)
		e.levels = append(e.levels, level)
		e.links = append(e.links, links)
	})
	if err != nil {
		t.Fatal(err)
	}
	e.entry, e.m = entry, m
	return e
}

func (e exported) graph() Graph {
	return Graph{M: e.m, Vectors: e.vecs, IDs: e.ids, Levels: e.levels, Entry: e.entry,
		Links: func(node, level int) []int32 { return e.links[node][level] }}
}

// A graph given to FromGraph comes back edge for edge, passes Verify and
// searches as the index it came from.
func TestFromGraph_KeepsEveryEdge(t *testing.T) {
	d := 8
	base, q := baseAndQueries(3, 600, 20, d)
	src := build(t, metric.L2, d, base, Params{M: 6, EfConstruction: 40})
	e := export(t, src)
	h, err := FromGraph(d, mustMetric(metric.L2, d), e.graph())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Verify(); err != nil {
		t.Fatal(err)
	}
	got := export(t, h)
	if !slices.Equal(got.ids, e.ids) || !slices.Equal(got.levels, e.levels) || got.entry != e.entry {
		t.Fatal("ids, levels or entry point changed")
	}
	for i := range e.links {
		for l := range e.links[i] {
			if !slices.Equal(got.links[i][l], e.links[i][l]) {
				t.Fatalf("node %d level %d: %v, was %v", i, l, got.links[i][l], e.links[i][l])
			}
		}
	}
	a, _ := search(t, src, q, 10, nil)
	b, _ := search(t, h, q, 10, nil)
	if !slices.Equal(a, b) {
		t.Fatal("the imported graph searches differently")
	}
}

func TestFromGraph_RefusesBrokenGraphs(t *testing.T) {
	d := 4
	base, _ := baseAndQueries(4, 200, 1, d)
	e := export(t, build(t, metric.L2, d, base, Params{M: 4}))
	low := -1 // a level-0-only node
	for i, lv := range e.levels {
		if lv == 0 {
			low = i
			break
		}
	}
	cases := []struct {
		name   string
		break_ func(g *Graph)
		class  error
	}{
		{"neighbour out of range", func(g *Graph) { g.Links = override(g.Links, 0, 0, []int32{int32(len(g.IDs))}) }, errs.Corrupt},
		{"neighbour of a lower level", func(g *Graph) { g.Links = override(g.Links, e.entry, 1, []int32{int32(low)}) }, errs.Corrupt},
		{"overfull list", func(g *Graph) { g.Links = override(g.Links, 0, 0, []int32{1, 2, 3, 4, 5, 6, 7, 8, 9}) }, errs.Corrupt},
		{"entry below the top", func(g *Graph) { g.Entry = low }, errs.Corrupt},
		{"level beyond ours", func(g *Graph) { g.Levels = slices.Clone(g.Levels); g.Levels[0] = maxLevel + 1 }, errs.Unsupported},
		{"repeated ids", func(g *Graph) { g.IDs = slices.Clone(g.IDs); g.IDs[1] = g.IDs[0] }, errs.DuplicateID},
		{"M out of range", func(g *Graph) { g.M = 1 }, errs.Unsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := e.graph()
			c.break_(&g)
			if _, err := FromGraph(d, mustMetric(metric.L2, d), g); !errors.Is(err, c.class) {
				t.Fatalf("want %v, got %v", c.class, err)
			}
		})
	}
}

func override(links func(int, int) []int32, node, level int, with []int32) func(int, int) []int32 {
	return func(n, l int) []int32 {
		if n == node && l == level {
			return with
		}
		return links(n, l)
	}
}

// Self links and repeats are dropped (our searches assume neither);
// faiss's -1 padding ends a list; removed nodes leave, repaired.
func TestFromGraph_CleansListsAndDropsRemovedNodes(t *testing.T) {
	d := 4
	base, q := baseAndQueries(5, 300, 10, d)
	e := export(t, build(t, metric.L2, d, base, Params{M: 4}))
	g := e.graph()
	first := e.links[0][0]
	g.Links = override(g.Links, 0, 0, append(append([]int32{0, first[0], first[0]}, first[1:]...), -1, 5))
	g.Removed = make([]bool, len(g.IDs))
	for i := 0; i < len(g.IDs); i += 10 {
		g.Removed[i] = true
	}
	h, err := FromGraph(d, mustMetric(metric.L2, d), g)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Verify(); err != nil {
		t.Fatal(err)
	}
	if h.Len() != len(g.IDs)-30 {
		t.Fatalf("len %d after dropping 30 of %d", h.Len(), len(g.IDs))
	}
	ids, _ := search(t, h, q, 10, nil)
	for _, id := range ids {
		if id%10 == 0 {
			t.Fatalf("removed id %d found", id)
		}
	}
}
