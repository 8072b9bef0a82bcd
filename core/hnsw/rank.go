package hnsw

import (
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/kernels"
)

// ranker computes the value a walk orders nodes by: the squared euclidean
// distance of prepared vectors for l2-family metrics, 1 - <a,b> for the dot
// family, the exact distance for the rest. All are "smaller is closer" and
// keep the metric's order.
type ranker struct {
	class metric.Class
	ks    *kernels.Set
	m     *metric.Metric
	dim   int // rows are padded beyond dim with zeros
	// when set, walks rank on one-byte codes: the squared distance between
	// the query's code and the node's (see sq8)
	q8    *sq8
	qcode []uint8
	// rowAhead asks a walk on codes to prefetch the float32 row of each
	// node it expands, for the re-rank: see walkCodes
	rowAhead bool
}

func (h *HNSW) ranker() ranker {
	return ranker{class: h.Bound().Class(), ks: kernels.Current(), m: h.Bound(), dim: h.Dim()}
}

// dist ranks two stored-form rows (padded or not).
func (r ranker) dist(a, b []float32) float32 {
	switch r.class {
	case metric.ClassL2:
		return r.ks.L2Sq(a, b)
	case metric.ClassDot:
		return 1 - r.ks.Dot(a, b)
	}
	return float32(r.m.Pair(a[:r.dim], b[:r.dim]))
}

// toNode ranks query q against stored node i, on codes when walking on them.
func (r ranker) toNode(h *HNSW, q []float32, i uint32) float32 {
	if r.q8 != nil {
		return float32(r.ks.L2U8(r.qcode, r.q8.code(i)))
	}
	return r.dist(q, h.vec(i))
}

// gather ranks query q against the stored nodes named in rows, into out:
// one kernel call for the whole list where the metric has one.
func (r ranker) gather(h *HNSW, s *scratch, q []float32, rows []uint32, out []float32) {
	if r.q8 != nil {
		if cap(s.u32) < len(rows) {
			s.u32 = make([]uint32, 2*len(rows))
		}
		u := s.u32[:len(rows)]
		r.ks.L2U8Gather(r.qcode, r.q8.codes, r.q8.stride, rows, u)
		for i, v := range u {
			out[i] = float32(v)
		}
		return
	}
	switch r.class {
	case metric.ClassL2:
		r.ks.L2SqGather(q, h.vecs, h.stride, rows, out)
	case metric.ClassDot:
		r.ks.DotGather(q, h.vecs, h.stride, rows, out)
		for i, v := range out[:len(rows)] {
			out[i] = 1 - v
		}
	default:
		for i, x := range rows {
			out[i] = float32(r.m.Pair(q[:r.dim], h.vec(x)[:r.dim]))
		}
	}
}

// exact is the metric's distance, for results (Pair is exact where the
// ranking value would lose precision, e.g. angular near 0).
func (r ranker) exact(a, b []float32) float32 { return float32(r.m.Pair(a[:r.dim], b[:r.dim])) }
