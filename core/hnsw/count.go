package hnsw

import "sync/atomic"

// Distance counters for benchmarks (distances per query tell a graph change
// from a loop change): off unless CountDistances turned them on, so a
// search pays one predictable branch per expansion.
var (
	counting   atomic.Bool
	countWalk  atomic.Int64 // distances during walks (on codes or float32)
	countFloat atomic.Int64 // float32 re-ranks after a walk on codes
)

func countDistances(c *atomic.Int64, n int) {
	if counting.Load() {
		c.Add(int64(n))
	}
}

// CountDistances turns the process-wide distance counters on (zeroing
// them) or off, and returns what they counted since they were turned on:
// distances computed while walking graphs, and float32 re-ranks after walks
// on codes. For benchmarks; searches of every HNSW index count.
func CountDistances(on bool) (walk, rerank int64) {
	walk, rerank = countWalk.Load(), countFloat.Load()
	if on {
		countWalk.Store(0)
		countFloat.Store(0)
	}
	counting.Store(on)
	return walk, rerank
}
