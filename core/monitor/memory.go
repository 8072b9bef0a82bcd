package monitor

import (
	"math"
	"runtime/debug"
)

// MemoryLimit is what memory shares are taken of: the Go runtime's soft
// limit when one is set (oxv_set_memory_limit), else the machine's
// physical memory; 0 when neither is known.
func MemoryLimit() int64 {
	if l := debug.SetMemoryLimit(-1); l > 0 && l != math.MaxInt64 {
		return l
	}
	return physicalMemory()
}
