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
}

func (h *HNSW) ranker() ranker {
	return ranker{class: h.metric.Class(), ks: kernels.Current(), m: h.metric}
}

func (r ranker) dist(a, b []float32) float32 {
	switch r.class {
	case metric.ClassL2:
		return r.ks.L2Sq(a, b)
	case metric.ClassDot:
		return 1 - r.ks.Dot(a, b)
	}
	return float32(r.m.Pair(a, b))
}

// exact is the metric's distance, for results (Pair is exact where the
// ranking value would lose precision, e.g. angular near 0).
func (r ranker) exact(a, b []float32) float32 { return float32(r.m.Pair(a, b)) }
