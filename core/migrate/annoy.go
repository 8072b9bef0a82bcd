package migrate

import (
	"context"
	"encoding/binary"
	"math"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// Annoy's file is its node array as it sits in memory (annoylib.h,
// AnnoyIndex<int32_t, float, D>): the items first (node i is item i,
// n_descendants = 1, its vector in v), then the split nodes, then a copy
// of each tree's root. Every node has the same size, offsetof(Node, v) +
// 4*f, and the offset depends on the metric's Node struct: angular
// {n_descendants, children[2]} = 12, euclidean and manhattan
// {n_descendants, a, children[2]} = 16, dot {n_descendants, children[2],
// dot_factor} = 16 in Annoy 1.17.3 (24 with the norm and built fields
// added after it). The file does not record f or
// the metric: the caller says them, and a size that is no multiple of the
// node size says they are wrong.
//
// Only the items are read: the random-projection trees serve Annoy's
// search and have no equivalent in oxvec's indexes, which build their own
// structure from the vectors (docs/migration.md).

// annoyMetrics maps Annoy's metric names onto ours and the layouts of
// their nodes (offsets of v and of children). The dot node grew two
// fields (norm, built) after Annoy 1.17.3, the release on PyPI: both
// layouts are tried, the released one first.
var annoyMetrics = map[string]struct {
	kind    metric.Kind
	layouts []annoyLayout
}{
	"angular":   {metric.Cosine, []annoyLayout{{12, 4}}}, // Annoy reports sqrt(2 - 2 cos): the same order
	"euclidean": {metric.Euclidean, []annoyLayout{{16, 8}}},
	"manhattan": {metric.Manhattan, []annoyLayout{{16, 8}}},
	"dot":       {metric.IP, []annoyLayout{{16, 4}, {24, 4}}}, // Annoy reports <a,b>; oxvec 1 - <a,b>: the same order
}

type annoyLayout struct{ vector, children int }

// AnnoyMetric returns the oxvec metric kind of an Annoy metric name.
func AnnoyMetric(name string) (metric.Kind, error) {
	m, ok := annoyMetrics[name]
	if !ok {
		return 0, errorf(errInvalid, "annoy metric %q: give \"angular\", \"euclidean\", \"manhattan\" or \"dot\" (\"hamming\" indexes hold packed bits oxvec's float32 indexes cannot take)", name)
	}
	return m.kind, nil
}

// AnnoyItems reads the items of an Annoy file: the vectors of the items
// present and their ids (Annoy's item numbers).
func AnnoyItems(b []byte, dim int, name string) (vecs []float32, ids []int64, err error) {
	if _, err := AnnoyMetric(name); err != nil {
		return nil, nil, err
	}
	if dim < 1 || dim > index.MaxDim {
		return nil, nil, errorf(errInvalid, "dim must be between 1 and %d, got %d", index.MaxDim, dim)
	}
	for _, l := range annoyMetrics[name].layouts {
		if vecs, ids, err = annoyItems(b, dim, name, l); err == nil {
			return vecs, ids, nil
		}
	}
	return nil, nil, err
}

func annoyItems(b []byte, dim int, name string, l annoyLayout) (vecs []float32, ids []int64, err error) {
	s := l.vector + 4*dim
	if len(b) == 0 || len(b)%s != 0 {
		return nil, nil, corrupt("annoy file of %d bytes is no whole number of %d-byte nodes (dim %d, metric %s): truncated, or opened with another dim or metric than it was built with", len(b), s, dim, name)
	}
	nodes := len(b) / s
	desc := func(i int) int32 { return int32(binary.LittleEndian.Uint32(b[i*s:])) }
	// the roots are the last nodes, all with n_descendants = n_items, and
	// follow the items
	items := desc(nodes - 1)
	if items < 1 || int(items) >= nodes {
		return nil, nil, corrupt("annoy file: its roots claim %d items in %d nodes (truncated?)", items, nodes)
	}
	if err := annoyTrees(b, s, l.children, int(items), nodes, desc); err != nil {
		return nil, nil, err
	}
	for i := 0; i < int(items); i++ {
		if d := desc(i); d != 1 {
			if d == 0 {
				continue // an item number never added
			}
			return nil, nil, corrupt("annoy file: node %d of the %d items has %d descendants", i, items, d)
		}
		ids = append(ids, int64(i))
		for j := 0; j < dim; j++ {
			vecs = append(vecs, math.Float32frombits(binary.LittleEndian.Uint32(b[i*s+l.vector+4*j:])))
		}
	}
	if err := index.CheckFinite(vecs, dim, "annoy items"); err != nil {
		return nil, nil, asCorrupt("annoy file", err)
	}
	return vecs, ids, nil
}

// annoyTrees checks the nodes after the items, which a cut or damaged
// file gets wrong first: each is a split node (more than K descendants,
// two children among the nodes) or a bucket (2..K descendants, that many
// item numbers), with at most n_items descendants; a 1-item index's roots
// are the item itself.
func annoyTrees(b []byte, s, children, items, nodes int, desc func(int) int32) error {
	k := (s - children) / 4 // descendants a bucket holds (Annoy's _K)
	child := func(i, j int) int { return int(int32(binary.LittleEndian.Uint32(b[i*s+children+4*j:]))) }
	for i := items; i < nodes; i++ {
		nd := int(desc(i))
		switch {
		case nd == 1 && items == 1:
			// a 1-item index's roots are copies of the item
			if string(b[i*s:(i+1)*s]) != string(b[:s]) {
				return corrupt("annoy file: node %d is neither a copy of the only item nor a tree node", i)
			}
		case nd < 2 || nd > items:
			return corrupt("annoy file: node %d has %d descendants in an index of %d items (truncated, or another dim or metric?)", i, nd, items)
		case nd <= k:
			for j := 0; j < nd; j++ {
				if c := child(i, j); c < 0 || c >= items {
					return corrupt("annoy file: node %d names item %d of %d", i, c, items)
				}
			}
		default:
			for j := 0; j < 2; j++ {
				if c := child(i, j); c < 0 || c >= nodes {
					return corrupt("annoy file: node %d names node %d of %d", i, c, nodes)
				}
			}
		}
	}
	return nil
}

// FromAnnoyFile adds the items of an Annoy file to into (an empty index
// of the caller's choice, of the metric AnnoyMetric names), training it
// on them first when it learns and is untrained.
func FromAnnoyFile(ctx context.Context, path string, dim int, name string, into index.Index) error {
	b, err := readFile(path)
	if err != nil {
		return err
	}
	vecs, ids, err := AnnoyItems(b, dim, name)
	if err != nil {
		return err
	}
	if into.Dim() != dim {
		return errorf(errInvalid, "the target index has dim %d, the annoy file %d", into.Dim(), dim)
	}
	if k, _ := AnnoyMetric(name); into.Metric() != k {
		return errorf(errInvalid, "the target index ranks by %s; annoy's %s is oxvec's %s: make the index with that metric", into.Metric(), name, k)
	}
	if len(ids) == 0 {
		return nil
	}
	if t, ok := into.(index.Trainer); ok && !t.Trained() {
		if err := t.Train(ctx, vecs); err != nil {
			return err
		}
	}
	return into.Add(ctx, vecs, ids, nil)
}
