package migrate

import (
	"encoding/binary"
	"math"

	"github.com/oxvec/oxvec/core/hnsw"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// hnswlib's saveIndex layout (hnswlib/hnswalg.h), all little-endian:
//
//	header: offsetLevel0, max_elements, cur_element_count,
//	        size_data_per_element, label_offset, offsetData (size_t each),
//	        maxlevel (int), enterpoint_node (uint32), maxM, maxM0, M
//	        (size_t), mult (double), ef_construction (size_t)
//	level 0: cur_element_count blocks of size_data_per_element bytes:
//	        a uint32 header (count in the low 16 bits, the deleted flag
//	        in bit 0 of byte 2), maxM0 uint32 neighbours, the vector
//	        (dim float32), the label (size_t)
//	upper levels: per element a uint32 byte count (levels * (4 + 4*maxM)),
//	        then per level a uint32 count and maxM uint32 neighbours
const hnswlibHeader = 6*8 + 4 + 4 + 3*8 + 8 + 8

// hnswlibDeleted is hnswlib's DELETE_MARK, in byte 2 of a level-0 list.
const hnswlibDeleted = 0x01

// FromHNSWLibFile reads a file written by hnswlib's save_index; space is
// "l2", "ip" or "cosine" (hnswlib's names) and dim the vectors' length,
// neither of which the file records.
func FromHNSWLibFile(path, space string, dim int) (index.Index, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return FromHNSWLib(b, space, dim)
}

// hnswlibMetric maps hnswlib's space names onto our metrics: l2 is
// squared l2 in both, ip is 1 - <a,b> in both, cosine is hnswlib's ip on
// normalised vectors, which our cosine is.
func hnswlibMetric(space string, dim int) (*metric.Metric, error) {
	kinds := map[string]metric.Kind{"l2": metric.L2, "ip": metric.IP, "cosine": metric.Cosine}
	k, ok := kinds[space]
	if !ok {
		return nil, errorf(errInvalid, "hnswlib space %q: give \"l2\", \"ip\" or \"cosine\", the space the index was built with", space)
	}
	return metric.New(k, dim, metric.Params{})
}

// FromHNSWLib builds an oxvec hnsw index with hnswlib's graph, labels as
// ids, and deleted elements removed.
func FromHNSWLib(b []byte, space string, dim int) (index.Index, error) {
	idx, _, err := fromHNSWLib(b, space, dim, false)
	return idx, err
}

// fromHNSWLib builds the index; with slotted, the nodes' ids are their
// positions in the file and the labels are returned beside (labels[i] is
// the label of node i), so that a store can take the positions as slots.
func fromHNSWLib(b []byte, space string, dim int, slotted bool) (index.Index, []int64, error) {
	if dim < 1 || dim > index.MaxDim {
		return nil, nil, errorf(errInvalid, "dim must be between 1 and %d, got %d", index.MaxDim, dim)
	}
	m, err := hnswlibMetric(space, dim)
	if err != nil {
		return nil, nil, err
	}
	r := &reader{b: b, what: "hnswlib"}
	off0 := r.u64("offsetLevel0")
	r.u64("max_elements")
	count := r.u64("cur_element_count")
	per := r.u64("size_data_per_element")
	labelOff := r.u64("label_offset")
	dataOff := r.u64("offsetData")
	maxLevel := r.i32("maxlevel")
	entry := r.u32("enterpoint_node")
	maxM := r.u64("maxM")
	maxM0 := r.u64("maxM0")
	M := r.u64("M")
	r.f64("mult")
	efc := r.u64("ef_construction")
	if r.err != nil {
		return nil, nil, r.err
	}
	r.check(off0 == 0 && maxM0 >= 1 && maxM0 <= 1<<16 && maxM <= 1<<16, "header: level-0 offset %d, maxM0 %d, maxM %d", off0, maxM0, maxM)
	r.check(dataOff == 4+4*maxM0 && per == dataOff+uint64(4*dim)+8 && labelOff == dataOff+uint64(4*dim),
		"element layout (%d bytes per element, data at %d, label at %d) is not that of %d-dimensional float32 vectors with %d level-0 links: is dim right?", per, dataOff, labelOff, dim, maxM0)
	r.check(count <= uint64(r.left())/max(per, 1), "%d elements of %d bytes in %d bytes", count, per, r.left())
	if r.err != nil {
		return nil, nil, r.err
	}
	if maxM0 != 2*maxM || maxM != M {
		return nil, nil, unsupported("hnswlib index with maxM0=%d, maxM=%d, M=%d; oxvec's hnsw holds 2M links at level 0 and M above (hnswlib's own choice)", maxM0, maxM, M)
	}
	n := int(count)
	level0 := r.take(n*int(per), "level-0 blocks")
	links := int(4 + 4*maxM)
	upper := make([][]byte, n)
	levels := make([]int, n)
	top := -1
	for i := 0; i < n && r.err == nil; i++ {
		size := int(r.u32("link list size"))
		r.check(size%links == 0 && size/links <= 64, "element %d: upper lists of %d bytes", i, size)
		upper[i] = r.take(size, "upper lists")
		levels[i] = size / links
		top = max(top, levels[i])
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	if r.left() != 0 {
		return nil, nil, corrupt("hnswlib file has %d bytes after the index", r.left())
	}
	if n > 0 && (int(entry) >= n || levels[entry] != int(maxLevel) || top != int(maxLevel)) {
		return nil, nil, corrupt("hnswlib entry point %d at level %d, max level %d", entry, maxLevel, top)
	}
	vecs := make([]float32, n*dim)
	ids := make([]int64, n)
	var removed []bool
	for i := 0; i < n; i++ {
		blk := level0[i*int(per) : (i+1)*int(per)]
		for j := 0; j < dim; j++ {
			vecs[i*dim+j] = math.Float32frombits(binary.LittleEndian.Uint32(blk[int(dataOff)+4*j:]))
		}
		label := binary.LittleEndian.Uint64(blk[labelOff:])
		if label > math.MaxInt64 {
			return nil, nil, unsupported("hnswlib label %d: oxvec ids are int64 >= 0", label)
		}
		ids[i] = int64(label)
		if blk[2]&hnswlibDeleted != 0 {
			if removed == nil {
				removed = make([]bool, n)
			}
			removed[i] = true
		}
	}
	buf := make([]int32, 0, maxM0)
	list := func(cells []byte, capacity int) []int32 {
		c := int(binary.LittleEndian.Uint16(cells))
		buf = buf[:0]
		if c > capacity {
			// more than the list holds: the file is damaged; a neighbour
			// past every node makes FromGraph say so
			return append(buf, math.MaxInt32)
		}
		for j := 0; j < c; j++ {
			buf = append(buf, int32(min(binary.LittleEndian.Uint32(cells[4+4*j:]), math.MaxInt32)))
		}
		return buf
	}
	nodeIDs := ids
	if slotted {
		nodeIDs = make([]int64, n)
		for i := range nodeIDs {
			nodeIDs[i] = int64(i)
		}
	}
	idx, err := hnsw.FromGraph(dim, m, hnsw.Graph{
		M: int(M), EfConstruction: int(min(efc, 1<<20)), Vectors: vecs, IDs: nodeIDs, Levels: levels, Entry: int(entry), Removed: removed,
		Links: func(node, level int) []int32 {
			if level == 0 {
				return list(level0[node*int(per):], int(maxM0))
			}
			return list(upper[node][(level-1)*links:], int(maxM))
		},
	})
	return idx, ids, asCorrupt("hnswlib file", err)
}
