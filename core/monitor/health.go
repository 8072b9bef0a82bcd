package monitor

import (
	"fmt"
	"math"
)

// Thresholds are the limits a health check compares against (nil: not
// checked): the four a deployment watches - search latency (p99), memory
// share, recall and error rate.
type Thresholds struct {
	MaxLatencyMS     *float64 `json:"max_latency_ms"`
	MaxMemoryPercent *float64 `json:"max_memory_percent"`
	MinRecall        *float64 `json:"min_recall"`
	MaxErrorRate     *float64 `json:"max_error_rate"`
}

// Health is the verdict: "ok", or "degraded" with one reason per
// threshold crossed.
type Health struct {
	Status  string   `json:"status"`
	Reasons []string `json:"reasons"`
}

// Check checks every threshold against the figures in their names; a
// threshold whose figure is unknown yet (no search in the window, no recall
// sample) is not crossed. Recall is degraded only when the upper end of its
// interval is below the minimum, so that a handful of samples do not raise
// a false alarm.
func (t Thresholds) Check(st Stats) (Health, error) {
	for _, v := range []*float64{t.MaxLatencyMS, t.MaxMemoryPercent, t.MinRecall, t.MaxErrorRate} {
		if v != nil && (math.IsNaN(*v) || *v < 0) {
			return Health{}, fmt.Errorf("health thresholds must be numbers >= 0, got %v", *v)
		}
	}
	h := Health{Status: "ok", Reasons: []string{}}
	if t.MaxLatencyMS != nil {
		if s := st.Latency["search"]; s.Count > 0 && s.P99 > *t.MaxLatencyMS {
			h.Reasons = append(h.Reasons, fmt.Sprintf("search p99 latency %.3g ms is above %.3g ms (over the last %.0f s)", s.P99, *t.MaxLatencyMS, st.WindowSec))
		}
	}
	if t.MaxMemoryPercent != nil && st.Memory.Limit > 0 && st.Memory.Percent > *t.MaxMemoryPercent {
		h.Reasons = append(h.Reasons, fmt.Sprintf("memory %.3g%% of the limit (%d of %d bytes) is above %.3g%%", st.Memory.Percent, st.Memory.Total, st.Memory.Limit, *t.MaxMemoryPercent))
	}
	if t.MinRecall != nil && st.Recall != nil && st.Recall.High < *t.MinRecall {
		h.Reasons = append(h.Reasons, fmt.Sprintf("estimated recall %.3f (95%% interval %.3f..%.3f over %d queries) is below %.3g", st.Recall.Value, st.Recall.Low, st.Recall.High, st.Recall.N, *t.MinRecall))
	}
	if t.MaxErrorRate != nil && st.ErrorRate > *t.MaxErrorRate {
		h.Reasons = append(h.Reasons, fmt.Sprintf("error rate %.3g is above %.3g (over the last %.0f s)", st.ErrorRate, *t.MaxErrorRate, st.WindowSec))
	}
	if len(h.Reasons) > 0 {
		h.Status = "degraded"
	}
	return h, nil
}
