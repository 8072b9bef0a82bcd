package migrate

import (
	"math"
)

// faiss metric types (faiss/MetricType.h).
const (
	faissIP = 0
	faissL2 = 1
)

// maxNesting bounds wrapped indexes (IDMap around HNSW around its
// storage, IVF around its quantizer): no supported file nests deeper, and
// a damaged one must not recurse without end.
const maxNesting = 4

// faissSupported lists the fourccs FromFaiss reads, for messages.
const faissSupported = "IxF2 (IndexFlatL2), IxFI (IndexFlatIP), IHNf (IndexHNSWFlat), IwFl (IndexIVFFlat), IwPQ (IndexIVFPQ, by_residual), IxPq/IxPQ/IxPo (IndexPQ), IxSQ (IndexScalarQuantizer, QT_8bit/QT_4bit and _uniform), IxMp (IndexIDMap), IxM2 (IndexIDMap2)"

// fIndex is a faiss index as its file describes it; which fields are set
// depends on fourcc.
type fIndex struct {
	fourcc  string
	d       int
	ntotal  int
	trained bool
	metric  int32

	vecs []float32 // IxF2/IxFI: ntotal rows of d

	hnsw    *fHNSW  // IHNf
	storage *fIndex // IHNf: the flat index holding the vectors

	nprobe     int     // IVF
	quantizer  *fIndex // IVF: flat (or HNSW-flat) index of the centroids
	lists      *fLists // IVF
	pq         *fPQ    // IwPQ, IxPq
	byResidual bool    // IwPQ
	codes      []byte  // IxPq, IxSQ: ntotal codes
	sq         *fSQ    // IxSQ

	inner *fIndex // IxMp/IxM2
	idMap []int64 // IxMp/IxM2: ntotal ids
}

type fHNSW struct {
	cum        []int32 // cum_nneighbor_per_level
	levels     []int32 // per node: top level + 1
	offsets    []int64 // ntotal+1 offsets into neighbors
	neighbors  []int32
	entry      int32
	maxLevel   int32
	efConstr   int32
	efSearch   int32
	assignProb []float64
}

type fPQ struct {
	d, m, nbits int
	centroids   []float32 // m * 2^nbits * (d/m)
	codeSize    int
}

type fSQ struct {
	qtype       int32 // faiss's QuantizerType: 0 8bit, 1 4bit, 2 8bit_uniform, 3 4bit_uniform, ...
	trained     []float32
	d, codeSize int
}

type fLists struct {
	codeSize int
	sizes    []int
	ids      []int64 // all lists, one after the other
	codes    []byte  // all lists' codes, one after the other
}

// readFaiss parses one index (and what it wraps) at r's offset.
func readFaiss(r *reader, depth int) *fIndex {
	if depth > maxNesting {
		r.check(false, "indexes nested more than %d deep", maxNesting)
		return nil
	}
	h := r.fourcc("index fourcc")
	if r.err != nil {
		return nil
	}
	x := &fIndex{fourcc: h}
	switch h {
	case "IxF2", "IxFI":
		readHeader(r, x)
		// faiss's "xb vector": the count of floats, then the floats
		n := r.size("flat vector count", 4, math.MaxInt64)
		r.check(n == x.ntotal*x.d, "flat index of %d vectors of dim %d stores %d values", x.ntotal, x.d, n)
		x.vecs = r.floats(n, "flat vectors")
	case "IHNf":
		readHeader(r, x)
		x.hnsw = readHNSW(r)
		if r.err != nil {
			return nil
		}
		r.check(len(x.hnsw.levels) == x.ntotal, "hnsw graph has %d nodes, the index %d", len(x.hnsw.levels), x.ntotal)
		x.storage = readFaiss(r, depth+1)
		if r.err == nil && x.storage == nil {
			r.check(false, "hnsw storage missing")
		}
	case "IwFl", "IwPQ":
		readHeader(r, x)
		nlist := r.size("nlist", 0, 1<<20)
		x.nprobe = r.size("nprobe", 0, 1<<20)
		x.quantizer = readFaiss(r, depth+1)
		if r.err != nil {
			return nil
		}
		r.check(x.quantizer != nil && x.quantizer.ntotal == nlist && x.quantizer.d == x.d,
			"ivf of %d lists of dim %d over a quantizer of other size", nlist, x.d)
		readDirectMap(r)
		codeSize := 4 * x.d
		if h == "IwPQ" {
			x.byResidual = r.bool8("by_residual")
			codeSize = r.size("code_size", 0, 1<<16)
			x.pq = readPQ(r)
			if x.pq != nil {
				r.check(x.pq.d == x.d && x.pq.codeSize == codeSize, "pq of dim %d, code size %d, in an ivf of dim %d, code size %d", x.pq.d, x.pq.codeSize, x.d, codeSize)
			}
		}
		x.lists = readLists(r, nlist, codeSize)
	case "IxPq", "IxPQ", "IxPo":
		readHeader(r, x)
		x.pq = readPQ(r)
		if r.err != nil {
			return nil
		}
		n := r.size("pq code bytes", 1, math.MaxInt64)
		r.check(x.pq.d == x.d && n == x.ntotal*x.pq.codeSize, "pq index of %d codes of %d bytes stores %d bytes", x.ntotal, x.pq.codeSize, n)
		x.codes = r.take(n, "pq codes")
		if h != "IxPQ" {
			r.u32("search_type")
			r.bool8("encode_signs")
			r.i32("polysemous_ht")
		}
		if h != "IxPq" {
			x.metric = faissL2 // faiss: old PQ files said inner product but meant l2
		}
	case "IxSQ":
		readHeader(r, x)
		q := &fSQ{}
		q.qtype = r.i32("sq qtype")
		r.i32("sq rangestat")
		r.u32("sq rangestat_arg")
		q.d = r.size("sq d", 0, 1<<16)
		q.codeSize = r.size("sq code_size", 0, 1<<20)
		q.trained = r.vecFloat("sq trained")
		n := r.size("sq code bytes", 1, math.MaxInt64)
		r.check(q.d == x.d && n == x.ntotal*q.codeSize, "scalar quantizer of dim %d, %d codes of %d bytes in %d bytes", q.d, x.ntotal, q.codeSize, n)
		x.codes = r.take(n, "sq codes")
		x.sq = q
	case "IxMp", "IxM2":
		readHeader(r, x)
		x.inner = readFaiss(r, depth+1)
		if r.err != nil {
			return nil
		}
		r.check(x.inner != nil, "id map around no index")
		x.idMap = r.vecInt64("id_map")
		if r.err == nil {
			r.check(len(x.idMap) == x.ntotal && x.inner.ntotal == x.ntotal && x.inner.d == x.d,
				"id map of %d ids for %d vectors (inner index: %d)", len(x.idMap), x.ntotal, x.inner.ntotal)
		}
	case "null":
		return nil
	default:
		if r.err == nil {
			r.err = unsupported("faiss index fourcc %q%s is not supported; supported: %s", h, printable(h), faissSupported)
		}
		return nil
	}
	if r.err != nil {
		return nil
	}
	return x
}

// printable adds a fourcc's bytes in hex when they are not plain text
// (a file that is no faiss file at all).
func printable(h string) string {
	for _, c := range []byte(h) {
		if c < 32 || c > 126 {
			return " (bytes " + hexBytes(h) + ": is this a faiss file?)"
		}
	}
	return ""
}

func hexBytes(s string) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 3*len(s))
	for i, c := range []byte(s) {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// readHeader reads faiss's index header (write_index_header): d (int),
// ntotal, two unused int64, is_trained, metric_type, metric_arg for
// metrics above l2.
func readHeader(r *reader, x *fIndex) {
	d := r.i32("d")
	nt := r.i64("ntotal")
	r.i64("dummy")
	r.i64("dummy")
	x.trained = r.bool8("is_trained")
	x.metric = r.i32("metric_type")
	if x.metric > 1 {
		r.u32("metric_arg")
	}
	r.check(d >= 1 && d <= 1<<16, "dimension %d", d)
	// every stored vector takes at least a byte, except HNSW's whose
	// storage follows; ntotal is checked against each part's own size
	r.check(nt >= 0 && nt <= math.MaxInt32, "ntotal %d", nt)
	x.d, x.ntotal = int(d), int(nt)
}

func readHNSW(r *reader) *fHNSW {
	g := &fHNSW{}
	g.assignProb = r.vecDouble("assign_probas")
	g.cum = r.vecInt32("cum_nneighbor_per_level")
	g.levels = r.vecInt32("levels")
	g.offsets = r.vecInt64("offsets")
	g.neighbors = r.vecInt32("neighbors")
	g.entry = r.i32("entry_point")
	g.maxLevel = r.i32("max_level")
	g.efConstr = r.i32("efConstruction")
	g.efSearch = r.i32("efSearch")
	r.i32("upper_beam")
	return g
}

// readDirectMap skips the id -> list map faiss may keep (oxvec keeps its
// own): a type byte, an array and, for a hash table, pairs.
func readDirectMap(r *reader) {
	kind := r.u8("direct map type")
	n := r.size("direct map array", 8, math.MaxInt64)
	r.take(8*n, "direct map array")
	if kind == 2 {
		n := r.size("direct map hashtable", 16, math.MaxInt64)
		r.take(16*n, "direct map hashtable")
	}
	r.check(kind <= 2, "direct map type %d", kind)
}

func readPQ(r *reader) *fPQ {
	p := &fPQ{}
	p.d = r.size("pq d", 0, 1<<16)
	p.m = r.size("pq M", 0, 1<<16)
	p.nbits = r.size("pq nbits", 0, 24)
	if r.err != nil {
		return nil
	}
	r.check(p.m >= 1 && p.d%p.m == 0 && p.nbits >= 1, "product quantizer of dim %d, M %d, nbits %d", p.d, p.m, p.nbits)
	p.codeSize = (p.m*p.nbits + 7) / 8
	p.centroids = r.vecFloat("pq centroids")
	r.check(len(p.centroids) == p.d<<p.nbits, "pq centroids: %d values for dim %d, nbits %d", len(p.centroids), p.d, p.nbits)
	if r.err != nil {
		return nil
	}
	return p
}

// readLists reads an "ilar" ArrayInvertedLists: nlist, code_size, the
// sizes ("full": nlist of them; "sprs": (list, size) pairs of non-empty
// lists), then per non-empty list its codes and its ids.
func readLists(r *reader, nlist, codeSize int) *fLists {
	h := r.fourcc("inverted lists fourcc")
	if r.err != nil {
		return nil
	}
	if h != "ilar" {
		r.err = unsupported("faiss inverted lists %q are not supported (only in-file ArrayInvertedLists, \"ilar\")", h)
		return nil
	}
	n := r.size("invlists nlist", 0, 1<<20)
	cs := r.size("invlists code_size", 0, 1<<20)
	r.check(n == nlist && cs == codeSize, "inverted lists of %d lists, code size %d, in an index of %d lists, code size %d", n, cs, nlist, codeSize)
	if r.err != nil {
		return nil
	}
	l := &fLists{codeSize: cs, sizes: make([]int, nlist)}
	// each stored vector takes its code and an 8-byte id
	per := cs + 8
	switch kind := r.fourcc("list type"); kind {
	case "full":
		k := r.size("list sizes", 8, nlist)
		r.check(k == nlist, "%d list sizes for %d lists", k, nlist)
		for i := 0; i < k && r.err == nil; i++ {
			l.sizes[i] = r.size("list size", per, math.MaxInt32)
		}
	case "sprs":
		k := r.size("sparse list sizes", 8, 2*nlist)
		r.check(k%2 == 0, "odd count %d of sparse list sizes", k)
		for i := 0; i+1 < k && r.err == nil; i += 2 {
			c := r.size("list number", 0, nlist-1)
			l.sizes[c] = r.size("list size", per, math.MaxInt32)
		}
	default:
		r.check(false, "list type %q (faiss writes \"full\" or \"sprs\")", kind)
	}
	total := 0
	for _, s := range l.sizes {
		total += s
	}
	r.check(total <= r.left()/per, "lists of %d vectors in %d bytes", total, r.left())
	if r.err != nil {
		return nil
	}
	l.codes = make([]byte, 0, total*cs)
	l.ids = make([]int64, 0, total)
	for _, s := range l.sizes {
		if s > 0 {
			l.codes = append(l.codes, r.take(s*cs, "list codes")...)
			l.ids = append(l.ids, r.int64s(s, "list ids")...)
		}
	}
	if r.err != nil {
		return nil
	}
	return l
}
