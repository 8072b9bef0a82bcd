package hnsw

import "sync/atomic"

// Distance counters for benchmarks (count per query tells a graph change
// from a loop change): off unless counting is set, so a search pays one
// predictable branch per expansion.
var (
	counting   bool
	countWalk  atomic.Int64 // distances during walks (codes or float32)
	countFloat atomic.Int64 // float32 re-ranks after a code walk
)

func countDistances(c *atomic.Int64, n int) {
	if counting {
		c.Add(int64(n))
	}
}
