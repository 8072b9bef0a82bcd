package migrate

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/hnsw"
	"github.com/oxvec/oxvec/core/index"
)

// Slotted is a migrated index for a store (store.Adopt): its ids are the
// vectors' positions in the file (faiss's internal ids; for IVF, the order
// of the inverted lists), which a store takes as its record slots, and the
// file's own ids stand beside them. The structure is the one FromFaiss /
// FromHNSWLib keep (graph, lists, codes): only the ids differ.
type Slotted struct {
	Index   index.Index
	Slots   []int64         // the index's ids, one per vector it holds
	Foreign []int64         // Foreign[i]: the file's id of Slots[i]
	Spec    json.RawMessage // the index spec a store is configured with
}

// Keys are the foreign ids as strings: a store's default record ids.
func (s Slotted) Keys() []string {
	keys := make([]string, len(s.Foreign))
	for i, id := range s.Foreign {
		keys[i] = strconv.FormatInt(id, 10)
	}
	return keys
}

// FaissSlottedFile is FaissSlotted on the file at path.
func FaissSlottedFile(path string) (Slotted, error) {
	b, err := readFile(path)
	if err != nil {
		return Slotted{}, err
	}
	return FaissSlotted(b)
}

// FaissSlotted reads a faiss index as FromFaiss does, numbered by position.
func FaissSlotted(b []byte) (Slotted, error) {
	x, ids, err := parseFaiss(b)
	if err != nil {
		return Slotted{}, err
	}
	var foreign []int64
	switch x.fourcc {
	case "IwFl", "IwPQ":
		// the lists hold the ids; slots follow the lists' order
		if foreign, err = listIDs(x.lists.ids, ids); err != nil {
			return Slotted{}, err
		}
		x.lists.ids = positions(len(foreign))
	default:
		foreign = ids
		if foreign == nil {
			foreign = positions(x.ntotal)
		}
		if len(foreign) != x.ntotal {
			return Slotted{}, corrupt("faiss id map of %d ids over %d vectors", len(foreign), x.ntotal)
		}
	}
	if err := unique(foreign, "faiss file"); err != nil {
		return Slotted{}, err
	}
	idx, err := buildFaiss(x, nil)
	if err != nil {
		return Slotted{}, asCorrupt("faiss file", err)
	}
	spec := map[string]any{"type": idx.Info().Type}
	switch x.fourcc {
	case "IwFl":
		spec["nlist"], spec["nprobe"] = len(x.lists.sizes), x.nprobe
	case "IwPQ":
		spec["nlist"], spec["nprobe"], spec["m"], spec["nbits"] = len(x.lists.sizes), x.nprobe, x.pq.m, x.pq.nbits
	case "IxPq", "IxPQ", "IxPo":
		spec["m"], spec["nbits"] = x.pq.m, x.pq.nbits
	case "IxSQ":
		spec["nbits"] = map[int32]int{0: 8, 1: 4, 2: 8, 3: 4}[x.sq.qtype]
		if x.sq.qtype >= 2 {
			spec["range"] = "uniform"
		}
	}
	return finish(idx, positions(len(foreign)), foreign, spec)
}

// HNSWLibSlottedFile reads an hnswlib file as FromHNSWLibFile does,
// numbered by position; deleted elements are left out (their positions
// are free slots).
func HNSWLibSlottedFile(path, space string, dim int) (Slotted, error) {
	b, err := readFile(path)
	if err != nil {
		return Slotted{}, err
	}
	idx, labels, err := fromHNSWLib(b, space, dim, true)
	if err != nil {
		return Slotted{}, err
	}
	// the nodes the import removed (deleted in hnswlib) are not present
	rec := idx.(index.Reconstructor)
	slots := make([]int64, 0, idx.Len())
	foreign := make([]int64, 0, idx.Len())
	for i, label := range labels {
		if rec.Vectors([]int64{int64(i)}, nil) == nil {
			slots = append(slots, int64(i))
			foreign = append(foreign, label)
		}
	}
	if err := unique(foreign, "hnswlib file"); err != nil {
		idx.Close()
		return Slotted{}, err
	}
	return finish(idx, slots, foreign, map[string]any{"type": hnsw.TypeName})
}

// finish adds the parameters of an HNSW graph to spec.
func finish(idx index.Index, slots, foreign []int64, spec map[string]any) (Slotted, error) {
	if h, ok := idx.(*hnsw.HNSW); ok {
		p := h.Params()
		spec["m"], spec["ef_construction"], spec["ef_search"] = p.M, p.EfConstruction, p.EfSearch
	}
	b, _ := json.Marshal(spec)
	return Slotted{Index: idx, Slots: slots, Foreign: foreign, Spec: b}, nil
}

func positions(n int) []int64 {
	p := make([]int64, n)
	for i := range p {
		p[i] = int64(i)
	}
	return p
}

// unique refuses a file id given twice (valid in faiss, not as a key).
func unique(ids []int64, what string) error {
	seen := make(map[int64]struct{}, len(ids))
	for _, id := range ids {
		if _, dup := seen[id]; dup {
			return fmt.Errorf("%w: %s: id %d is given to two vectors (oxvec keeps one vector per id)", errs.Unsupported, what, id)
		}
		seen[id] = struct{}{}
	}
	return nil
}

// AnnoyItemsFile is AnnoyItems on the file at path.
func AnnoyItemsFile(path string, dim int, name string) (vecs []float32, ids []int64, err error) {
	b, err := readFile(path)
	if err != nil {
		return nil, nil, err
	}
	return AnnoyItems(b, dim, name)
}
