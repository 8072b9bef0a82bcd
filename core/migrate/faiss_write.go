package migrate

import (
	"io"
	"math"

	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/hnsw"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/ivf"
	"github.com/oxvec/oxvec/core/ivfpq"
	"github.com/oxvec/oxvec/core/metric"
)

// ToFaissFile writes idx as a file faiss.read_index reads (atomically:
// format.WriteFile).
func ToFaissFile(idx index.Index, path string) error {
	b, err := ToFaiss(idx)
	if err != nil {
		return err
	}
	return format.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// ToFaiss encodes idx in faiss's format: flat as IndexFlatL2/IP, hnsw as
// IndexHNSWFlat (the graph as it is), ivf_flat as IndexIVFFlat and ivf_pq
// as IndexIVFPQ (centroids, codebook and lists as they are). Ids that are
// not 0..n-1 in storage order put flat and hnsw inside an IndexIDMap2
// (IVF lists hold ids themselves). Cosine indexes are written as inner
// product over their normalised vectors: normalise queries for faiss.
func ToFaiss(idx index.Index) ([]byte, error) {
	code, err := faissMetricOf(idx.Metric())
	if err != nil {
		return nil, err
	}
	w := &writer{}
	switch x := idx.(type) {
	case *flat.Flat:
		err = x.Rows(func(vecs []float32, ids []int64) error {
			wrapIDs(w, idx.Dim(), code, ids, func() { writeFlat(w, idx.Dim(), code, vecs) })
			return nil
		})
	case *hnsw.HNSW:
		err = writeHNSW(w, x, code)
	case *ivf.IVF:
		err = writeIVFFlat(w, x, code)
	case *ivfpq.IVFPQ:
		err = writeIVFPQ(w, x, code)
	default:
		return nil, unsupported("to_faiss writes flat, hnsw, ivf_flat and ivf_pq indexes, not %s", idx.Info().Type)
	}
	if err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}

func faissMetricOf(k metric.Kind) (int32, error) {
	switch k {
	case metric.L2:
		return faissL2, nil
	case metric.IP, metric.Cosine:
		return faissIP, nil
	}
	return 0, unsupported("faiss has no metric %s; to_faiss writes l2, ip and cosine (as ip over normalised vectors) indexes", k)
}

func writeHeader(w *writer, d, ntotal int, metricCode int32) {
	w.i32(int32(d))
	w.i64(int64(ntotal))
	w.i64(1 << 20) // unused by faiss since long ago; it writes these values
	w.i64(1 << 20)
	w.u8(1) // is_trained
	w.i32(metricCode)
}

func writeFlat(w *writer, d int, code int32, vecs []float32) {
	if code == faissL2 {
		w.fourcc("IxF2")
	} else {
		w.fourcc("IxFI")
	}
	writeHeader(w, d, len(vecs)/d, code)
	w.vecFloat(vecs) // an "xb vector": the count of floats, then the floats
}

// wrapIDs writes inner directly when ids are 0..n-1 in order, else inside
// an IndexIDMap2 holding them.
func wrapIDs(w *writer, d int, code int32, ids []int64, inner func()) {
	identity := true
	for i, id := range ids {
		if id != int64(i) {
			identity = false
			break
		}
	}
	if identity {
		inner()
		return
	}
	w.fourcc("IxM2")
	writeHeader(w, d, len(ids), code)
	inner()
	w.vecInt64(ids)
}

// faissProbas is faiss's HNSW::set_default_probas: the chance of each top
// level and the cumulated link counts (2M at level 0, M above), extended
// to levels levels at least.
func faissProbas(M, levels int) (probas []float64, cum []int32) {
	mult := 1 / math.Log(float64(M))
	cum = []int32{0}
	nn := int32(0)
	for level := 0; ; level++ {
		p := math.Exp(-float64(level)/mult) * (1 - math.Exp(-1/mult))
		if p < 1e-9 && level >= levels {
			break
		}
		probas = append(probas, float64(float32(p))) // faiss computes it in float
		if level == 0 {
			nn += int32(2 * M)
		} else {
			nn += int32(M)
		}
		cum = append(cum, nn)
	}
	return probas, cum
}

func writeHNSW(w *writer, h *hnsw.HNSW, code int32) error {
	d := h.Dim()
	var vecs []float32
	var ids []int64
	var levels []int32
	var lists [][][]int32
	entry, top, M, err := h.Graph(func(node int, id int64, vec []float32, level int, links [][]int32) {
		vecs = append(vecs, vec...)
		ids = append(ids, id)
		levels = append(levels, int32(level+1))
		lists = append(lists, links)
	})
	if err != nil {
		return err
	}
	probas, cum := faissProbas(M, top+1)
	offsets := make([]int64, 1, len(ids)+1)
	var neighbors []int32
	for i, lv := range levels {
		for l := 0; l < int(lv); l++ {
			room := int(cum[l+1] - cum[l])
			got := lists[i][l]
			neighbors = append(neighbors, got...)
			for j := len(got); j < room; j++ {
				neighbors = append(neighbors, -1)
			}
		}
		offsets = append(offsets, int64(len(neighbors)))
	}
	wrapIDs(w, d, code, ids, func() {
		w.fourcc("IHNf")
		writeHeader(w, d, len(ids), code)
		w.vecDouble(probas)
		w.vecInt32(cum)
		w.vecInt32(levels)
		w.vecInt64(offsets)
		w.vecInt32(neighbors)
		w.i32(int32(entry))
		w.i32(int32(top))
		w.i32(int32(h.Params().EfConstruction))
		w.i32(int32(h.Knob("ef")))
		w.i32(1) // upper_beam, unused
		writeFlat(w, d, code, vecs)
	})
	return nil
}

// writeIVFHeader writes an IVF's header, its quantizer and an empty
// direct map.
func writeIVFHeader(w *writer, fourcc string, d, ntotal, nprobe int, code int32, centroids []float32) {
	w.fourcc(fourcc)
	writeHeader(w, d, ntotal, code)
	w.u64(uint64(len(centroids) / d))
	w.u64(uint64(nprobe))
	writeFlat(w, d, code, centroids)
	w.u8(0) // no direct map
	w.u64(0)
}

// writeLists writes "ilar" inverted lists in the "full" layout.
func writeLists(w *writer, codeSize int, ids [][]int64, codes func(list int) []byte) {
	w.fourcc("ilar")
	w.u64(uint64(len(ids)))
	w.u64(uint64(codeSize))
	w.fourcc("full")
	w.u64(uint64(len(ids)))
	for _, l := range ids {
		w.u64(uint64(len(l)))
	}
	for c, l := range ids {
		if len(l) > 0 {
			w.Write(codes(c))
			w.int64s(l)
		}
	}
}

func count(ids [][]int64) int {
	n := 0
	for _, l := range ids {
		n += len(l)
	}
	return n
}

func writeIVFFlat(w *writer, x *ivf.IVF, code int32) error {
	nprobe, cents, ids, vecs, err := x.Parts()
	if err != nil {
		return err
	}
	d := x.Dim()
	writeIVFHeader(w, "IwFl", d, count(ids), nprobe, code, cents)
	writeLists(w, 4*d, ids, func(c int) []byte {
		var b writer
		b.floats(vecs[c])
		return b.Bytes()
	})
	return nil
}

func writeIVFPQ(w *writer, x *ivfpq.IVFPQ, code int32) error {
	l, ids, codes, err := x.Parts()
	if err != nil {
		return err
	}
	d := x.Dim()
	codeSize := (l.M*l.NBits + 7) / 8
	writeIVFHeader(w, "IwPQ", d, count(ids), l.NProbe, code, l.Centroids)
	w.u8(1) // by_residual
	w.u64(uint64(codeSize))
	w.u64(uint64(d))
	w.u64(uint64(l.M))
	w.u64(uint64(l.NBits))
	w.vecFloat(l.Codebook)
	writeLists(w, codeSize, ids, func(c int) []byte { return codes[c] })
	return nil
}
