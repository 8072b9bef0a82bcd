package index

import (
	"fmt"
	"math"
	"runtime/debug"
	"runtime/metrics"

	"github.com/oxvec/oxvec/core/errs"
)

// checkedFrom is the smallest allocation CheckMemory looks at. Reading the
// limit takes the runtime's heap lock and the usage a metrics read, which a
// microsecond search should not pay; an allocation below a megabyte is not
// what takes a process past its limit by surprise.
const checkedFrom = 1 << 20

// CheckMemory returns errs.NoMemory when allocating about bytes more would
// take the Go runtime past its memory limit (runtime/debug.SetMemoryLimit,
// GOMEMLIMIT, oxv_set_memory_limit), so that a call refuses a buffer it
// cannot have before it allocates anything: the runtime itself cannot
// fail an allocation, it aborts the process. Callers check the large
// buffers a call sizes by its arguments (a batch, nq*k results, nq*nprobe
// cells). A negative size (an overflowed product) is refused. Without a
// limit nothing is refused.
func CheckMemory(bytes int64) error {
	if bytes < 0 {
		return fmt.Errorf("%w: the call's buffers would need more than 8 EiB; make the call smaller", errs.NoMemory)
	}
	if bytes < checkedFrom {
		return nil
	}
	limit := debug.SetMemoryLimit(-1) // a negative value only reads it
	if limit == math.MaxInt64 {
		return nil
	}
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	used := int64(s[0].Value.Uint64())
	if bytes > limit-used {
		return fmt.Errorf("%w: the call needs about %d MiB more and %d of the %d MiB memory limit are in use; raise it with oxvec.set_memory_limit or make the call smaller",
			errs.NoMemory, bytes>>20, used>>20, limit>>20)
	}
	return nil
}
