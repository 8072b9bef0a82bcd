//go:build !noasm

package kernels

// Prefetch asks the CPU to bring the two cache lines at p into cache (a
// hint: it reads nothing and cannot fault). Graph searches use it for the
// neighbour list they will read next.
func Prefetch(p *uint32) { prefetch2(p) }

// PrefetchRow asks the CPU to bring row's cache lines into cache (a hint).
// len(row)*4 must be a multiple of 64, as stored rows' are.
func PrefetchRow(row []float32) {
	if len(row) > 0 {
		prefetchSpan(&row[0], 4*len(row))
	}
}
