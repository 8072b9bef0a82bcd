package migrate

import (
	"context"
	"os"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/hnsw"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/ivf"
	"github.com/oxvec/oxvec/core/ivfpq"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/pq"
	"github.com/oxvec/oxvec/core/sq"
)

// FromFaissFile reads a file written by faiss.write_index.
func FromFaissFile(path string) (index.Index, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return FromFaiss(b)
}

func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, errorf(errs.NotFound, "no file at %s", path)
		}
		return nil, errorf(errs.IO, "%v", err)
	}
	return b, nil
}

// FromFaiss builds the oxvec index equivalent to the faiss index in b.
func FromFaiss(b []byte) (index.Index, error) {
	x, ids, err := parseFaiss(b)
	if err != nil {
		return nil, err
	}
	idx, err := buildFaiss(x, ids)
	return idx, asCorrupt("faiss file", err)
}

// parseFaiss reads the faiss index in b and unwraps an IDMap: the inner
// index and the map's ids (nil without one).
func parseFaiss(b []byte) (*fIndex, []int64, error) {
	r := &reader{b: b, what: "faiss"}
	x := readFaiss(r, 0)
	if r.err != nil {
		return nil, nil, r.err
	}
	if x == nil {
		return nil, nil, corrupt("faiss file holds no index (\"null\")")
	}
	if r.left() != 0 {
		return nil, nil, corrupt("faiss file has %d bytes after the index", r.left())
	}
	var ids []int64
	if x.idMap != nil {
		ids, x = x.idMap, x.inner
		if x.idMap != nil {
			return nil, nil, unsupported("an IDMap around an IDMap")
		}
		for _, id := range ids {
			if id < 0 {
				return nil, nil, unsupported("faiss id %d: oxvec ids are >= 0", id)
			}
		}
	}
	return x, ids, nil
}

// faissMetric maps faiss's metric type onto ours.
func faissMetric(x *fIndex) (*metric.Metric, error) {
	switch x.metric {
	case faissL2:
		return metric.New(metric.L2, x.d, metric.Params{})
	case faissIP:
		return metric.New(metric.IP, x.d, metric.Params{})
	}
	return nil, unsupported("faiss metric type %d; supported: 0 (inner product -> ip) and 1 (l2)", x.metric)
}

// mapID translates a faiss internal id (0..ntotal-1) through an IDMap's
// ids; with no map the id stays.
func mapID(ids []int64, raw int64) (int64, error) {
	if ids == nil {
		if raw < 0 {
			return 0, unsupported("faiss id %d: oxvec ids are >= 0", raw)
		}
		return raw, nil
	}
	if raw < 0 || raw >= int64(len(ids)) {
		return 0, corrupt("faiss id %d outside the id map of %d", raw, len(ids))
	}
	return ids[raw], nil
}

func buildFaiss(x *fIndex, ids []int64) (index.Index, error) {
	m, err := faissMetric(x)
	if err != nil {
		return nil, err
	}
	switch x.fourcc {
	case "IxF2", "IxFI":
		f, err := flat.New(x.d, m)
		if err != nil {
			return nil, err
		}
		if x.ntotal > 0 {
			if err := f.Add(context.Background(), x.vecs, ids, nil); err != nil {
				return nil, err
			}
		}
		return f, nil
	case "IHNf":
		return buildHNSW(x, m, ids)
	case "IwFl":
		return buildIVF(x, m, ids)
	case "IwPQ":
		return buildIVFPQ(x, m, ids)
	case "IxPq", "IxPQ", "IxPo":
		if x.pq.nbits != 8 && x.pq.nbits != 4 {
			return nil, unsupported("faiss IndexPQ with nbits=%d; oxvec's pq codes take 8 or 4 bits", x.pq.nbits)
		}
		return pq.FromCodes(x.d, m, x.pq.m, x.pq.nbits, x.pq.centroids, x.codes, ids)
	case "IxSQ":
		return buildSQ(x, m, ids)
	}
	return nil, unsupported("faiss index %q inside another index; supported: %s", x.fourcc, faissSupported)
}

// centroidsOf returns the vectors of an IVF's quantizer: a flat index, or
// an HNSW-flat one (its storage).
func centroidsOf(q *fIndex) ([]float32, error) {
	switch q.fourcc {
	case "IxF2", "IxFI":
		return q.vecs, nil
	case "IHNf":
		if q.storage.fourcc == "IxF2" || q.storage.fourcc == "IxFI" {
			return q.storage.vecs, nil
		}
	}
	return nil, unsupported("faiss IVF quantizer %q; supported: IxF2, IxFI, IHNf", q.fourcc)
}

func buildHNSW(x *fIndex, m *metric.Metric, ids []int64) (index.Index, error) {
	s, g := x.storage, x.hnsw
	if s.fourcc != "IxF2" && s.fourcc != "IxFI" {
		return nil, unsupported("faiss HNSW storage %q; supported: IxF2, IxFI (IndexHNSWFlat)", s.fourcc)
	}
	if s.ntotal != x.ntotal || s.d != x.d {
		return nil, corrupt("faiss HNSW of %d vectors of dim %d over storage of %d of dim %d", x.ntotal, x.d, s.ntotal, s.d)
	}
	// faiss allots cum[l+1]-cum[l] links at level l; oxvec's hnsw holds 2M
	// at level 0 and M above, which is faiss's default (set_default_probas)
	c := g.cum
	if len(c) < 2 || c[0] != 0 || c[1]%2 != 0 || c[1] < 4 {
		return nil, corrupt("faiss HNSW neighbours per level %v", c)
	}
	M := int(c[1] / 2)
	for l := 1; l+1 < len(c); l++ {
		if int(c[l+1]-c[l]) != M {
			return nil, unsupported("faiss HNSW with %d links at level %d and %d at level 0; oxvec's hnsw holds 2M at level 0 and M above", c[l+1]-c[l], l, c[1])
		}
	}
	n := x.ntotal
	if len(g.offsets) != n+1 || (n > 0 && g.offsets[0] != 0) {
		return nil, corrupt("faiss HNSW has %d offsets for %d nodes", len(g.offsets), n)
	}
	levels := make([]int, n)
	for i, lv := range g.levels {
		if lv < 1 || int(lv) >= len(c) {
			return nil, corrupt("faiss HNSW node %d has %d levels, the table %d", i, lv, len(c)-1)
		}
		if g.offsets[i+1]-g.offsets[i] != int64(c[lv]) || g.offsets[i+1] > int64(len(g.neighbors)) {
			return nil, corrupt("faiss HNSW node %d: neighbour offsets %d..%d do not fit its %d levels", i, g.offsets[i], g.offsets[i+1], lv)
		}
		levels[i] = int(lv) - 1
	}
	if n > 0 && (g.entry < 0 || int(g.entry) >= n || levels[g.entry] != int(g.maxLevel)) {
		return nil, corrupt("faiss HNSW entry point %d at max level %d", g.entry, g.maxLevel)
	}
	nodeIDs := make([]int64, n)
	for i := range nodeIDs {
		id, err := mapID(ids, int64(i))
		if err != nil {
			return nil, err
		}
		nodeIDs[i] = id
	}
	return hnsw.FromGraph(x.d, m, hnsw.Graph{
		M: M, EfConstruction: int(g.efConstr), EfSearch: int(max(g.efSearch, 1)),
		Vectors: s.vecs, IDs: nodeIDs, Levels: levels, Entry: int(g.entry),
		Links: func(node, level int) []int32 {
			start := g.offsets[node] + int64(c[level])
			return g.neighbors[start : start+int64(c[level+1]-c[level])]
		},
	})
}

// listIDs maps the ids stored in inverted lists through an IDMap.
func listIDs(raw []int64, ids []int64) ([]int64, error) {
	out := make([]int64, len(raw))
	for i, id := range raw {
		v, err := mapID(ids, id)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func buildIVF(x *fIndex, m *metric.Metric, ids []int64) (index.Index, error) {
	cents, err := centroidsOf(x.quantizer)
	if err != nil {
		return nil, err
	}
	if !x.trained {
		return nil, unsupported("an untrained faiss IndexIVFFlat: train it (or build the oxvec index) first")
	}
	lids, err := listIDs(x.lists.ids, ids)
	if err != nil {
		return nil, err
	}
	return ivf.FromLists(x.d, m, ivf.Lists{NProbe: x.nprobe, Centroids: cents, Sizes: x.lists.sizes, IDs: lids, Vectors: bytesToFloats(x.lists.codes)})
}

func buildIVFPQ(x *fIndex, m *metric.Metric, ids []int64) (index.Index, error) {
	cents, err := centroidsOf(x.quantizer)
	if err != nil {
		return nil, err
	}
	switch {
	case !x.trained:
		return nil, unsupported("an untrained faiss IndexIVFPQ: train it first")
	case !x.byResidual:
		return nil, unsupported("faiss IndexIVFPQ with by_residual=False; oxvec's ivf_pq encodes residuals")
	case x.pq.nbits != 8 && x.pq.nbits != 4:
		return nil, unsupported("faiss IndexIVFPQ with nbits=%d; oxvec's pq codes take 8 or 4 bits", x.pq.nbits)
	}
	lids, err := listIDs(x.lists.ids, ids)
	if err != nil {
		return nil, err
	}
	return ivfpq.FromLists(x.d, m, ivfpq.Lists{NProbe: x.nprobe, M: x.pq.m, NBits: x.pq.nbits, Centroids: cents, Codebook: x.pq.centroids,
		Sizes: x.lists.sizes, IDs: lids, Codes: x.lists.codes})
}

// buildSQ maps faiss's 8- and 4-bit scalar quantizers (per dimension or
// uniform range) onto ours; the other quantizer types (fp16, 6 bits,
// direct, ...) have no codec here.
func buildSQ(x *fIndex, m *metric.Metric, ids []int64) (index.Index, error) {
	q := x.sq
	bits, uniform := 0, false
	switch q.qtype {
	case 0:
		bits = 8
	case 1:
		bits = 4
	case 2:
		bits, uniform = 8, true
	case 3:
		bits, uniform = 4, true
	default:
		return nil, unsupported("faiss ScalarQuantizer type %d; oxvec's sq codec is faiss's QT_8bit, QT_4bit, QT_8bit_uniform and QT_4bit_uniform (0-3)", q.qtype)
	}
	if q.codeSize != (x.d*bits+7)/8 {
		return nil, corrupt("faiss scalar quantizer of %d bits and dim %d with code size %d", bits, x.d, q.codeSize)
	}
	half := len(q.trained) / 2
	if len(q.trained)%2 != 0 || (half != x.d && !(uniform && half == 1)) {
		return nil, corrupt("faiss scalar quantizer with %d trained values for dim %d", len(q.trained), x.d)
	}
	return sq.FromFaissCodes(x.d, m, bits, uniform, q.trained[:half], q.trained[half:], x.codes, ids)
}
